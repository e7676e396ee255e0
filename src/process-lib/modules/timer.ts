// Client for `timer:distro:sys` (book: Timer API). `{"SetTimer": ms}` is answered with an empty
// Response after `ms` milliseconds. The timer is public: no capability needed.

import type { Message } from '../message.js';
import { Request } from '../message.js';
import { ourModule } from './call.js';

export type TimerAction = 'Debug' | { SetTimer: number };

export function timerAction(ms: number): TimerAction {
  if (!(Number.isInteger(ms) && ms >= 0)) throw new RangeError(`timer: milliseconds must be a whole number >= 0, got ${ms}`);
  return { SetTimer: ms };
}

/** Seconds to wait for a timer's Response: a little over the timer itself. */
export function timeoutFor(ms: number): number {
  return Math.ceil(ms / 1000) + 1;
}

/**
 * Set a timer without blocking. Its (empty) Response arrives through awaitMessage() from
 * timer:distro:sys, carrying `context` so several timers can be told apart.
 */
export function setTimer(ms: number, context?: Uint8Array | string): void {
  const r = Request.to(ourModule('timer')).json(timerAction(ms)).expectsResponse(timeoutFor(ms));
  if (context !== undefined) r.context(context);
  r.send();
}

/** Block for `ms` milliseconds (other messages that arrive meanwhile wait in the queue). */
export function sleep(ms: number): void {
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

/** Why the timer module refused a request, for its (non-empty) `{"Err": why}` Response; else undefined. */
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
