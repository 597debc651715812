// A request body as an HTTP/2 exchange keeps it: every chunk while the total fits REPLAY_LIMIT, so a retry on another
// replica can send it again; past the limit the body streams through and the request is no longer replayable.

import { REPLAY_LIMIT } from '../proxy/request-body.ts';

export class ReplayBody {
  readonly chunks: Buffer[] = [];
  replayable = true;
  ended: boolean;
  #size = 0;

  constructor(ended: boolean) {
    this.ended = ended;
  }

  push(chunk: Buffer): void {
    if (!this.replayable) return;
    this.#size += chunk.length;
    if (this.#size <= REPLAY_LIMIT) this.chunks.push(chunk);
    else {
      this.replayable = false;
      this.chunks.length = 0;
    }
  }
}
