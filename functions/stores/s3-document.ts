// A 200 is an answer only when its body is the document asked for. A store (or a proxy in front of
// it) can answer `?versioning` with a bucket listing, an HTML page or nothing at all, and the SDK
// would read each as "versioning never enabled": this looks at the raw body before the SDK parses it.
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  MetadataBearer,
  MiddlewareStack,
} from '@smithy/types';
import { HttpResponse } from '@smithy/protocol-http';
import { NotTheDocumentError } from './classify.js';
import type { Body } from './bounds.js';
import { ERROR_BODY_BYTES, boundedText } from './bounds.js';

/** Far above any real versioning, encryption, object lock or policy document (a policy is at most 20 KB). */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** The local name of an XML body's root element, or null when the body is not XML. */
export function xmlRoot(text: string): string | null {
  const m =
    /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]/.exec(
      text,
    );
  return m?.[1] ?? null;
}

/** A JSON object (a bucket policy), or not. */
export function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

export type DocumentCheck = { xmlRoot: string } | { json: 'object' };

async function collect(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of (body ?? []) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DOCUMENT_BYTES) {
      (body as { destroy?: () => void }).destroy?.();
      throw new NotTheDocumentError(
        `the store's answer exceeds ${MAX_DOCUMENT_BYTES} bytes: not the document asked for`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function describe(text: string): string {
  if (!text.trim()) return 'an empty body';
  const root = xmlRoot(text);
  if (root) return `<${root}>`;
  return /^\s*</.test(text) ? 'markup that is not XML (an HTML page?)' : 'a body that is not XML';
}

/**
 * Makes `command` fail with NotTheDocumentError unless its 2xx body is `expected`; the body is
 * handed on to the SDK's parser unchanged.
 */
export function expectDocument<C extends { middlewareStack: object }>(
  command: C,
  expected: DocumentCheck,
): C {
  const stack = command.middlewareStack as Pick<MiddlewareStack<object, MetadataBearer>, 'addRelativeTo'>;
  stack.addRelativeTo(
    (next: DeserializeHandler<object, MetadataBearer>) =>
      async (args: DeserializeHandlerArguments<object>) => {
        const out = await next(args);
        const response = out.response;
        if (!HttpResponse.isInstance(response)) return out;
        if (response.statusCode < 200 || response.statusCode >= 300) {
          // An error's code is in its first bytes: a 400 MiB error page is never read whole.
          response.body = Buffer.from(await boundedText((response.body ?? []) as Body, ERROR_BODY_BYTES));
          return out;
        }
        const bytes = await collect(response.body);
        const text = bytes.toString('utf8');
        const ok = 'xmlRoot' in expected ? xmlRoot(text) === expected.xmlRoot : isJsonObject(text);
        if (!ok) {
          const wanted = 'xmlRoot' in expected ? `<${expected.xmlRoot}>` : 'a JSON policy';
          throw new NotTheDocumentError(`the store answered with ${describe(text)} where ${wanted} was due`);
        }
        response.body = bytes;
        return out;
      },
    {
      relation: 'after',
      toMiddleware: 'deserializerMiddleware',
      name: 'csdriftExpectDocument',
      override: true,
    },
  );
  return command;
}
