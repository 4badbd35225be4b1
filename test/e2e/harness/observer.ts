/**
 * The harness's own view of the chain: a websocket client to dcrd that
 * subscribes to `winningtickets` and `blockconnected` notifications and
 * records them, reconnecting whenever dcrd restarts. Tests use it to know,
 * for every block, which tickets were called to vote.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { sleep } from './util.js';

export interface WinningTickets {
  blockHash: string;
  blockHeight: number;
  tickets: string[];
  receivedAt: number;
}

export interface ObserverEndpoint {
  wsUrl: string;
  caCertPath: string;
  user: string;
  password: string;
}

export class ChainObserver extends EventEmitter {
  /** Every winningtickets notification, in arrival order. */
  readonly winners: WinningTickets[] = [];
  private readonly byHash = new Map<string, WinningTickets>();
  private ws: WebSocket | undefined;
  private closed = false;
  private connectedOnce = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly ep: ObserverEndpoint) {
    super();
  }

  /** Resolves once the first subscription is in place. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.loop = this.run();
    const deadline = Date.now() + timeoutMs;
    while (!this.connectedOnce) {
      if (Date.now() > deadline) throw new Error(`chain observer could not subscribe at ${this.ep.wsUrl}`);
      await sleep(50);
    }
  }

  winnersAt(blockHash: string): WinningTickets | undefined {
    return this.byHash.get(blockHash);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ws?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    let delay = 100;
    while (!this.closed) {
      try {
        await this.session();
        delay = 100;
      } catch {
        // dcrd not up (yet/again): retry with capped backoff.
      }
      if (this.closed) break;
      await sleep(delay);
      delay = Math.min(delay * 2, 1_000);
    }
  }

  private session(): Promise<void> {
    return new Promise((resolve, reject) => {
      const auth = Buffer.from(`${this.ep.user}:${this.ep.password}`).toString('base64');
      const ws = new WebSocket(this.ep.wsUrl, {
        ca: readFileSync(this.ep.caCertPath),
        headers: { Authorization: `Basic ${auth}` },
        handshakeTimeout: 5_000,
      });
      this.ws = ws;
      let opened = false;
      ws.on('open', () => {
        opened = true;
        ws.send(JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'notifywinningtickets', params: [] }));
        ws.send(JSON.stringify({ jsonrpc: '1.0', id: 2, method: 'notifyblocks', params: [] }));
      });
      ws.on('message', (data) => this.onMessage(data.toString()));
      ws.on('error', (err) => {
        if (!opened) reject(err);
      });
      ws.on('close', () => {
        this.ws = undefined;
        if (opened) resolve();
        else reject(new Error('closed before open'));
      });
    });
  }

  private onMessage(text: string): void {
    let msg: { id?: unknown; method?: string; params?: unknown[]; error?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.id === 2 && !msg.error) {
      this.connectedOnce = true;
      this.emit('subscribed');
      return;
    }
    if (msg.method === 'winningtickets' && Array.isArray(msg.params)) {
      const [blockHash, blockHeight, tickets] = msg.params as [string, number, Record<string, string>];
      const entry: WinningTickets = {
        blockHash,
        blockHeight,
        tickets: Object.keys(tickets ?? {})
          .sort((a, b) => Number(a) - Number(b))
          .map((k) => tickets[k] as string),
        receivedAt: Date.now(),
      };
      this.winners.push(entry);
      this.byHash.set(blockHash, entry);
      this.emit('winningtickets', entry);
    } else if (msg.method === 'blockconnected' || msg.method === 'blockdisconnected') {
      this.emit(msg.method, msg.params);
    }
  }
}
