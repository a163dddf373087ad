// A small CloudStack API client: signed GET requests with a bounded life (signatureversion 3),
// async jobs followed to their end, and errors that name the command, never a key.
import { signedQuery } from './api-signing.js';

import { CloudStackApiError } from '../core/errors.js';

export { CloudStackApiError } from '../core/errors.js';

export interface CloudStackApiOptions {
  /** e.g. https://cloudstack.example/client/api */
  apiUrl: string;
  apiKey: string;
  secretKey: string;
  requestTimeoutMs?: number;
  jobTimeoutMs?: number;
  pollMs?: number;
}

type Params = Record<string, string | number | boolean | undefined>;

export class CloudStackApi {
  constructor(private readonly options: CloudStackApiOptions) {}

  /** One command; its response object (`<command>response`). */
  async call(command: string, params: Params = {}): Promise<Record<string, unknown>> {
    const expires = new Date(Date.now() + 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, '+0000');
    const query = signedQuery(
      { ...params, command, response: 'json', apiKey: this.options.apiKey, signatureVersion: 3, expires },
      this.options.secretKey,
    );
    let response: Response;
    try {
      response = await fetch(`${this.options.apiUrl}?${query}`, {
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new CloudStackApiError(
        `${command}: the CloudStack API could not be reached (${(err as Error).name})`,
      );
    }
    const text = await response.text();
    let body: Record<string, Record<string, unknown>>;
    try {
      body = JSON.parse(text) as Record<string, Record<string, unknown>>;
    } catch {
      throw new CloudStackApiError(`${command}: HTTP ${response.status}, not a CloudStack answer`);
    }
    const answer = body[`${command.toLowerCase()}response`] ?? Object.values(body)[0] ?? {};
    if (!response.ok || answer.errorcode) {
      throw new CloudStackApiError(
        `${command}: ${String(answer.errortext ?? `HTTP ${response.status}`)} (error ${String(answer.errorcode ?? response.status)})`,
      );
    }
    return answer;
  }

  /** An asynchronous command, followed through queryAsyncJobResult until it succeeds or fails. */
  async callAsync(command: string, params: Params = {}): Promise<Record<string, unknown>> {
    const started = await this.call(command, params);
    const jobId = started.jobid;
    if (typeof jobId !== 'string') return started; // some versions answer synchronously
    const deadline = Date.now() + (this.options.jobTimeoutMs ?? 300_000);
    while (Date.now() < deadline) {
      const job = await this.call('queryAsyncJobResult', { jobid: jobId });
      if (job.jobstatus === 1) return (job.jobresult as Record<string, unknown>) ?? {};
      if (job.jobstatus === 2) {
        const result = (job.jobresult ?? {}) as { errortext?: string; errorcode?: number };
        throw new CloudStackApiError(
          `${command}: job ${jobId} failed: ${result.errortext ?? 'no reason given'} (error ${result.errorcode ?? '?'})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 2000));
    }
    throw new CloudStackApiError(`${command}: job ${jobId} did not finish in time`);
  }
}
