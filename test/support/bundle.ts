// A Lambda handler bundled exactly as the stack bundles it (infra/bundling.ts), in a throwaway folder
// whose node_modules holds only what the Lambda runtime provides: the AWS SDK.
import { mkdtemp, mkdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_BANNER, BUNDLE_EXTERNALS, BUNDLE_TARGET } from '../../infra/bundling.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface BundledHandler {
  /** The minified bundle, as the function's artifact holds it. */
  file: string;
  bytes: number;
  remove(): Promise<void>;
}

export async function bundleHandler(entry: string): Promise<BundledHandler> {
  const dir = await mkdtemp(join(tmpdir(), 'csdrift-bundle-'));
  const file = join(dir, 'index.mjs');
  await build({
    entryPoints: [join(root, 'functions', 'handlers', entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    minify: true,
    target: BUNDLE_TARGET,
    banner: { js: BUNDLE_BANNER },
    external: BUNDLE_EXTERNALS,
    outfile: file,
    logLevel: 'error',
  });
  await mkdir(join(dir, 'node_modules'));
  await symlink(join(root, 'node_modules', '@aws-sdk'), join(dir, 'node_modules', '@aws-sdk'), 'dir');
  return {
    file,
    bytes: (await stat(file)).size,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
