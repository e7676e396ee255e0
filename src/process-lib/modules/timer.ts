// Client for `timer:distro:sys` (book: Timer API). `{"SetTimer": ms}` (a u64) is answered with an
// empty Response after `ms` milliseconds. The timer is public: no capability needed. A request it
// cannot read gets no answer (as on Hyperdrive); over the node's timers-per-process limit a
// request is refused at once with `{"Err": why}`, which timerError reads.

import type { Message } from '../message.js';
import { Request } from '../message.js';
import { ourModule } from './call.js';

export type TimerAction = 'Debug' | { SetTimer: number | bigint };

export function timerAction(ms: number | bigint): TimerAction {
  const ok = typeof ms === 'bigint' ? ms >= 0n && ms < 1n << 64n : Number.isSafeInteger(ms) && ms >= 0;
  if (!ok) throw new RangeError(`timer: milliseconds must be a whole number from 0 to 2^64-1, got ${ms}`);
  return { SetTimer: ms };
}

/** Seconds to wait for a timer's Response: a little over the timer itself. */
export function timeoutFor(ms: number | bigint): number {
  return Number((BigInt(ms) + 999n) / 1000n) + 1;
}

/**
 * Set a timer without blocking. Its (empty) Response arrives through awaitMessage() from
 * timer:distro:sys, carrying `context` so several timers can be told apart.
 */
export function setTimer(ms: number | bigint, context?: Uint8Array | string): void {
  const r = Request.to(ourModule('timer')).json(timerAction(ms)).expectsResponse(timeoutFor(ms));
  if (context !== undefined) r.context(context);
  r.send();
}

/** Block for `ms` milliseconds (other messages that arrive meanwhile wait in the queue). */
export function sleep(ms: number | bigint): void {
  const reply = Request.to(ourModule('timer')).json(timerAction(ms)).sendAndAwaitResponse(timeoutFor(ms));
  const why = timerError(reply);
  if (why !== undefined) throw new Error(`timer: ${why}`);
}

function fromTimer(message: Message): boolean {
  const p = message.source.process;
  return message.isResponse() && p.processName === 'timer' && p.packageName === 'distro' && p.publisherNode === 'sys';
}

/** Whether a message is a timer going off (its Response is empty). */
export function isTimer(message: Message): boolean {
  return fromTimer(message) && message.body.length === 0;
}

/** Why the timer module refused a request (over the timers-per-process limit), from its non-empty `{"Err": why}`; else undefined. */
export function timerError(message: Message): string | undefined {
  if (!fromTimer(message) || message.body.length === 0) return undefined;
  let err: unknown;
  try {
    err = message.json<{ Err?: unknown } | null>()?.Err;
  } catch {
    err = undefined;
  }
  return typeof err === 'string' ? err : 'the timer module refused the request';
}

/** Ask the timer module to print its pending timers on the node's terminal. */
export function debug(): void {
  Request.to(ourModule('timer')).json('Debug' satisfies TimerAction).send();
}
