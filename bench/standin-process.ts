// The RGW stand-in (bench/rgw-standin.ts) in a child process: started, told of changes, asked for its
// request count, stopped.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { StandinMessage, StandinStore } from './rgw-standin.js';

export class StandinProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
  ) {}

  static async start(store: StandinStore): Promise<StandinProcess> {
    const child = fork(fileURLToPath(new URL('rgw-standin.ts', import.meta.url)), ['--standin'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Sent, not passed as an argument: ten thousand uids are more than an argument may hold.
    child.send({ store: { ...store, versioned: [...store.versioned] } });
    const [first] = (await once(child, 'message')) as [{ endpoint: string }];
    return new StandinProcess(child, first.endpoint);
  }

  private async ask<T>(message: StandinMessage): Promise<T> {
    this.child.send(message);
    const [answer] = (await once(this.child, 'message')) as [T];
    return answer;
  }

  /** The requests it answered since the last call. */
  async requests(): Promise<number> {
    return (await this.ask<{ requests: number }>({ count: true })).requests;
  }

  async change(indices: number[]): Promise<void> {
    await this.ask({ change: indices });
  }

  async stop(): Promise<void> {
    this.child.send({ stop: true } satisfies StandinMessage);
    await once(this.child, 'exit');
  }
}
