// A SourceContext that records what a source tells the watcher: the tests of one source, without a
// watcher around it.
import type { DropReason, SourceContext } from '../../functions/sources/change-source.js';
import type { ChangeEvent } from '../../functions/sources/cloudstack-event.js';

export interface RecordingContext extends SourceContext {
  events: { event: ChangeEvent; settle: () => void }[];
  dropped_: { reason: DropReason; why?: string }[];
  states: string[];
  receivedCount: number;
}

export function recordingContext(): RecordingContext {
  const ctx: RecordingContext = {
    events: [],
    dropped_: [],
    states: [],
    receivedCount: 0,
    emit: (event, ack) => ctx.events.push({ event, settle: ack }),
    received: (count = 1) => void (ctx.receivedCount += count),
    dropped: (reason, why) => void ctx.dropped_.push({ reason, ...(why !== undefined ? { why } : {}) }),
    health: (up, detail) => void ctx.states.push(`${up ? 'up' : 'down'}: ${detail}`),
    warn: (message) => void ctx.states.push(`warning: ${message}`),
  };
  return ctx;
}
