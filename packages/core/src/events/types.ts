/**
 * What happens to a request and to a worker, as a typed stream. The server turns request events into SSE
 * and webhooks; chat adapters edit their progress message from them. Positions are published at most once
 * a second and only for requests someone watches.
 */
import type { GenerationState } from '../requests/schemas.js';
import type { RequestKind } from '../storage/types.js';

interface RequestEventBase {
  requestId: string;
  kind: RequestKind;
  at: number;
}

export type RequestEvent =
  | (RequestEventBase & { type: 'queued'; position: number; waitTime: number })
  | (RequestEventBase & { type: 'position'; position: number; waitTime: number })
  | (RequestEventBase & {
      type: 'processing';
      jobIds: string[];
      workerId: string;
      workerName: string;
      model: string;
    })
  | (RequestEventBase & {
      type: 'generation';
      jobId: string;
      workerId: string;
      workerName: string;
      model: string;
      seed: string;
      state: GenerationState;
      censored: boolean;
    })
  | (RequestEventBase & { type: 'restarted'; jobId: string; reason: 'faulted' | 'aborted' })
  | (RequestEventBase & { type: 'done'; kudos: number })
  | (RequestEventBase & { type: 'faulted' })
  | (RequestEventBase & { type: 'cancelled' })
  | (RequestEventBase & { type: 'expired' });

export type RequestEventType = RequestEvent['type'];

/** Events after which nothing more happens to the request (in-flight jobs of a cancelled request aside). */
export const FINAL_REQUEST_EVENTS: ReadonlySet<RequestEventType> = new Set([
  'done',
  'faulted',
  'cancelled',
  'expired',
]);

interface WorkerEventBase {
  workerId: string;
  workerName: string;
  at: number;
}

export type WorkerEvent =
  | (WorkerEventBase & { type: 'created'; ownerId: number })
  | (WorkerEventBase & { type: 'assigned'; requestId: string; jobIds: string[] })
  | (WorkerEventBase & { type: 'completed'; requestId: string; jobId: string; reward: number })
  | (WorkerEventBase & { type: 'failed'; requestId: string; jobId: string; reason: 'faulted' | 'aborted' })
  | (WorkerEventBase & { type: 'maintenance'; enabled: boolean; message: string | null })
  | (WorkerEventBase & { type: 'uptime'; reward: number });

export type HordeEvent = ({ scope: 'request' } & RequestEvent) | ({ scope: 'worker' } & WorkerEvent);
