/**
 * A pacer that learns how fast a consumer can take requests, under the configured `rate` and
 * `concurrency`, which stay ceilings it never passes. Two limits, because consumers refuse in two
 * ways: a rate limiter (nginx `limit_req`, an API gateway) counts requests per second whatever
 * their latency, while a worker pool with a queue takes N at once and slows, then refuses, past it.
 *
 * What the consumer's answers say, and what moves:
 * - A refusal (429, 503, or a window with a burst of other 5xx) while the slowest of the latest
 *   answers is slower than the no-load latency (a queue inside the consumer) is a pool:
 *   concurrency drops to 0.7 × the requests at the consumer at the time.
 * - The same refusal at no-load latency while the rate held sending back is a rate limiter: the
 *   rate drops to 0.7 × the rate actually sent over the last second (in slow start, to half the
 *   rate limit at least, as the one-second measure lags behind the doubling).
 * - A refusal with neither known, a timeout, or no connection: both drop.
 * - Each window (about two no-load latencies, 0.2 s to 2 s) estimates the queue inside the
 *   consumer from Little's law, requests at it × (1 − no-load latency / latency), as TCP Vegas
 *   and Netflix's VegasLimit do; above `queueHigh` concurrency shrinks towards what keeps the
 *   latency within 1.25 × the no-load one (the gradient of Envoy's adaptive concurrency).
 * - Growth, only while a limit is what holds sending back (Netflix's rule: no growth while unused):
 *   in slow start both double each window; in steady concurrency grows by 1 a window while the
 *   queue estimate stays under `queueLow`, and the rate follows the cubic curve of the AWS SDK's
 *   adaptive retry (CUBIC), 0.4·(t − K)³ + lastMax, t counted in seconds while rate-bound: back to
 *   where it was cut in K = ∛(lastMax·0.3/0.4) s, then quickly past it.
 * One cut per congestion: answers to requests sent before a cut (or within a no-load latency
 * after it) do not cut again. A first start begins at a quarter of the ceilings; a restart at half
 * the learned pace; both in slow start.
 *
 * The no-load latency is the lowest window median of the last 30 to 60 s, so it follows a
 * consumer that got slower for good; the controller itself drains the queue it measures, so
 * windows near no-load keep coming. The modes are in pace-mode.ts; the constants, with where each
 * comes from, in adaptive-tuning.ts; the window of answers in answer-window.ts.
 */

import {
  BETA,
  BURST_5XX,
  BURST_5XX_SHARE,
  CUBIC_C,
  IDLE_MS,
  LATENCY_BUFFER,
  LATENCY_NOISE_MS,
  NO_LOAD_SPAN_MS,
  queueHigh,
  queueLow,
  RECENT_ANSWERS,
} from './adaptive-tuning.js';
import { type AnswerWindow, openWindow, windowMs } from './answer-window.js';
import { median, RateMeter, WindowedMin } from './pace-measures.js';
import { checkedPaceMode, type PaceMode, type PaceSignal } from './pace-mode.js';
import type { LearnedPace, Pacer, PacerContext, PaceSample, PaceStatus } from './pacer.js';

/** The limits an adaptive pacer keeps to. */
export interface AdaptiveLimits {
  /** The configured rate: a ceiling; undefined when unlimited (the rate is then not limited until a refusal). */
  maxRate: number | undefined;
  maxConcurrency: number;
  minRate: number;
  minConcurrency: number;
  /** The configured burst: the token bucket holds at most this many. */
  burst: number;
}

/** See the module comment. `onChange` is told after every change of rate, concurrency or mode. */
export class AdaptivePacer implements Pacer {
  private rateLimit: number;
  private concurrencyLimit: number;
  private current: PaceMode = 'slow_start';
  /** Slow start goes up to these (the pace last learned, or the ceilings). */
  private targetRate: number;
  private targetConcurrency: number;
  private tokens: number;
  private refilledAt: number;
  private inFlightNow = 0;
  private lastSendAt: number;
  private readonly sends = new RateMeter();
  private readonly noLoad: WindowedMin;
  private window: AnswerWindow;
  /** The last window closed found the rate limit empty. */
  private previousRateBound = false;
  /** The last window's median latency (undefined before one closed with answers). */
  private latency: number | undefined;
  /** Latencies of the latest `RECENT_ANSWERS` answers (a ring): tell a refusal's cause. */
  private readonly recentLatencies: number[] = [];
  private recentNext = 0;
  /** When rate and concurrency were last cut: answers to requests sent before do not cut again. */
  private rateCutAt = -Infinity;
  private concurrencyCutAt = -Infinity;
  /** CUBIC: the rate before the last cut, and seconds spent rate-bound since. */
  private lastMaxRate = 0;
  private boundSinceCutS = 0;
  private signal: PaceSignal | undefined;
  private signalAt: number | undefined;

  constructor(
    private readonly limits: AdaptiveLimits,
    now: number,
    learned?: LearnedPace,
    private readonly onChange?: PacerContext['onChange'],
  ) {
    const maxRate = limits.maxRate ?? Infinity;
    this.targetRate = this.clampRate(learned ? (learned.rate ?? Infinity) : maxRate);
    this.targetConcurrency = this.clampConcurrency(learned ? learned.concurrency : limits.maxConcurrency);
    // A first start begins at a quarter of the ceilings (two at once at least); a restart at half the learned pace.
    this.rateLimit = this.clampRate(learned ? this.targetRate / 2 : maxRate / 4);
    this.concurrencyLimit = this.clampConcurrency(
      learned ? this.targetConcurrency / 2 : Math.max(2, limits.maxConcurrency / 4),
    );
    if (learned) [this.signal, this.signalAt] = ['restored', now];
    this.tokens = Math.min(limits.burst, 1);
    this.refilledAt = now;
    this.lastSendAt = now;
    this.noLoad = new WindowedMin(NO_LOAD_SPAN_MS, now);
    this.window = openWindow(now);
  }

  get rate(): number | undefined {
    return Number.isFinite(this.rateLimit) ? this.rateLimit : undefined;
  }

  get concurrency(): number {
    return Math.max(1, Math.floor(this.concurrencyLimit));
  }

  get mode(): PaceMode {
    return this.current;
  }

  get status(): PaceStatus {
    return {
      rate: this.rate,
      concurrency: this.concurrency,
      mode: this.current,
      signal: this.signal,
      signalAt: this.signalAt,
    };
  }

  /** Requests sent but not answered yet. */
  get inFlight(): number {
    return this.inFlightNow;
  }

  tryTake(now: number): boolean {
    if (now - this.lastSendAt >= IDLE_MS && this.current !== 'slow_start') this.restart(now, 'idle');
    this.refill(now);
    if (this.tokens < 1) {
      this.window.rateBound = true;
      return false;
    }
    this.tokens -= 1;
    this.inFlightNow += 1;
    this.lastSendAt = now;
    this.sends.add(now);
    if (this.inFlightNow >= this.concurrency) this.window.concurrencyBound = true;
    return true;
  }

  msUntilNext(now: number): number {
    this.refill(now);
    if (this.tokens >= 1 || !Number.isFinite(this.rateLimit)) return 0;
    // Asked while something waits to be sent: the rate is what holds sending back.
    this.window.rateBound = true;
    return Math.ceil(((1 - this.tokens) * 1000) / this.rateLimit);
  }

  affordable(now: number, horizonMs: number): number {
    if (!Number.isFinite(this.rateLimit)) return Infinity;
    this.refill(now);
    return Math.floor(this.tokens) + Math.floor((this.rateLimit * horizonMs) / 1000);
  }

  /** Sends within one refill of the bucket at the start count, as in the static pacer. */
  get historyMs(): number | undefined {
    return Number.isFinite(this.rateLimit) ? (this.limits.burst * 1000) / this.rateLimit : undefined;
  }

  restore(sent: number, now: number): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - sent);
  }

  /** Sending starts again after a pause or a hold: slow start from half the pace. */
  resume(now: number): void {
    if (this.current !== 'slow_start') this.restart(now, 'idle');
    this.lastSendAt = now;
  }

  record(sample: PaceSample, now: number): void {
    const inFlight = this.inFlightNow;
    this.inFlightNow = Math.max(0, this.inFlightNow - 1);
    const sentAt = now - sample.latencyMs;
    const w = this.window;
    w.answers += 1;
    w.inFlightSum += inFlight;
    const { status } = sample;
    if (status === undefined || status === 429 || status === 503) w.refusals += 1;
    if (status === undefined) {
      const signal = sample.failure === 'timeout' ? 'timeout' : 'connection';
      this.cut(signal, sentAt, now, { rate: true, concurrency: inFlight });
    } else if (status === 429 || status === 503) {
      this.refused(status === 429 ? '429' : '503', sentAt, now, inFlight);
    } else {
      if (status >= 500) w.errors5xx += 1;
      else {
        w.latencies.push(sample.latencyMs);
        this.recentLatencies[this.recentNext] = sample.latencyMs;
        this.recentNext = (this.recentNext + 1) % RECENT_ANSWERS;
      }
    }
    if (now - w.openedAt >= windowMs(this.noLoad.value)) this.closeWindow(now);
  }

  /**
   * A refusal: a queue inside the consumer (answers slower than no-load) cuts concurrency; answers
   * at no-load latency while the rate held sending back cut the rate; with neither known, both.
   */
  private refused(signal: PaceSignal, sentAt: number, now: number, inFlight: number): void {
    if (this.queueing()) this.cut(signal, sentAt, now, { rate: false, concurrency: inFlight });
    else if (this.window.rateBound || this.previousRateBound) this.cut(signal, sentAt, now, { rate: true });
    else this.cut(signal, sentAt, now, { rate: true, concurrency: inFlight });
  }

  private queueing(): boolean {
    // Before a window has closed, the fastest answer so far stands for the no-load latency.
    const noLoad = Number.isFinite(this.noLoad.value) ? this.noLoad.value : Math.min(...this.window.latencies);
    // The slowest of the latest answers: a queue shows in some of them before it shows in a median.
    const recent = this.recentLatencies.length > 0 ? Math.max(...this.recentLatencies) : undefined;
    if (recent === undefined || !Number.isFinite(noLoad)) return false;
    return recent > noLoad * LATENCY_BUFFER && recent - noLoad > LATENCY_NOISE_MS;
  }

  private cut(signal: PaceSignal, sentAt: number, now: number, what: { rate: boolean; concurrency?: number }): void {
    const before = this.snapshot();
    let moved = false;
    // Requests sent before a cut took effect (within a no-load latency of it) do not cut again.
    const settle = Number.isFinite(this.noLoad.value) ? this.noLoad.value : 0;
    if (what.rate && sentAt >= this.rateCutAt + settle) {
      const sent = this.sends.perSecond(now);
      const from = Math.min(this.rateLimit, sent > 0 ? sent : this.rateLimit);
      this.lastMaxRate = Number.isFinite(from) ? from : this.limits.minRate;
      this.boundSinceCutS = 0;
      // In slow start the rate doubled since it last went unrefused, and the one-second measure
      // lags behind the doubling: half the limit is known to be safe (TCP's ssthresh = cwnd / 2).
      const floor = this.current === 'slow_start' && Number.isFinite(this.rateLimit) ? this.rateLimit / 2 : 0;
      this.rateLimit = this.clampRate(Math.max(BETA * this.lastMaxRate, floor));
      this.lastMaxRate = Math.max(this.lastMaxRate, this.rateLimit);
      this.tokens = Math.min(this.tokens, 1);
      this.rateCutAt = now;
      moved = true;
    }
    if (what.concurrency !== undefined && sentAt >= this.concurrencyCutAt + settle) {
      this.concurrencyLimit = this.clampConcurrency(BETA * Math.min(this.concurrencyLimit, what.concurrency));
      this.concurrencyCutAt = now;
      moved = true;
    }
    if (!moved) return;
    this.current = checkedPaceMode(this.current, 'backing_off');
    this.changed(signal, now, before);
  }

  private closeWindow(now: number): void {
    const w = this.window;
    this.previousRateBound = w.rateBound;
    this.window = openWindow(now);
    const before = this.snapshot();
    const seconds = (now - w.openedAt) / 1000;
    if (w.latencies.length > 0) {
      this.latency = median(w.latencies);
      this.noLoad.add(this.latency, now);
    }
    if (w.errors5xx >= BURST_5XX && w.errors5xx >= BURST_5XX_SHARE * w.answers) {
      this.refused('5xx', w.openedAt, now, w.inFlightSum / w.answers);
      return;
    }
    if (w.rateBound) this.boundSinceCutS += seconds;
    const noLoad = this.noLoad.value;
    const latency = this.latency;
    const meanInFlight = w.answers > 0 ? w.inFlightSum / w.answers : 0;
    const queue =
      latency !== undefined && w.latencies.length > 0 && latency - noLoad > LATENCY_NOISE_MS
        ? meanInFlight * (1 - noLoad / latency)
        : 0;
    if (queue > queueHigh(this.concurrencyLimit)) {
      // Envoy's gradient: what would keep the latency within the buffer over no-load.
      const gradient = Math.min(0.9, Math.max(0.5, (LATENCY_BUFFER * noLoad) / latency!));
      this.concurrencyLimit = this.clampConcurrency(Math.min(this.concurrencyLimit, meanInFlight) * gradient);
      this.concurrencyCutAt = now;
      this.current = checkedPaceMode(this.current, 'backing_off');
      this.changed('latency', now, before);
      return;
    }
    const clean = w.errors5xx === 0 && w.refusals === 0 && w.answers > 0;
    // A window with refusals in it grows nothing: the cut they made stands for a window at least.
    if (w.refusals > 0 || w.errors5xx >= BURST_5XX) return;
    let grew = false;
    if (this.current === 'slow_start') {
      if (w.rateBound && this.rateLimit < this.targetRate) {
        this.rateLimit = Math.min(this.targetRate, this.rateLimit * 2);
        grew = true;
      }
      // Slow start doubles through a small queue (a busy machine's delays read as one), up to `queueHigh`.
      if (w.concurrencyBound && this.concurrencyLimit < this.targetConcurrency) {
        this.concurrencyLimit = Math.min(this.targetConcurrency, this.concurrencyLimit * 2);
        grew = true;
      }
      // Over once what held sending back is at its target: nothing left to double.
      if (!grew && (w.rateBound || w.concurrencyBound)) this.current = checkedPaceMode(this.current, 'steady');
    } else {
      if (w.rateBound && Number.isFinite(this.rateLimit)) {
        const k = Math.cbrt((this.lastMaxRate * (1 - BETA)) / CUBIC_C);
        const cubic = CUBIC_C * (this.boundSinceCutS - k) ** 3 + this.lastMaxRate;
        const next = this.clampRate(Math.max(this.rateLimit, cubic));
        grew ||= next > this.rateLimit;
        this.rateLimit = next;
      }
      if (w.concurrencyBound && queue < queueLow(this.concurrencyLimit)) {
        const next = this.clampConcurrency(this.concurrencyLimit + 1);
        grew ||= next > this.concurrencyLimit;
        this.concurrencyLimit = next;
      }
      if (this.current === 'backing_off' && clean) this.current = checkedPaceMode(this.current, 'steady');
    }
    if (grew) this.changed('growth', now, before);
    else if (this.current !== before.mode) this.onChange?.(this.status, before);
  }

  /** Slow start again from half the pace, up to it. */
  private restart(now: number, signal: PaceSignal): void {
    const before = this.snapshot();
    this.targetRate = this.rateLimit;
    this.targetConcurrency = this.concurrencyLimit;
    this.rateLimit = this.clampRate(this.rateLimit / 2);
    this.concurrencyLimit = this.clampConcurrency(this.concurrencyLimit / 2);
    this.tokens = Math.min(this.tokens, 1);
    this.current = checkedPaceMode(this.current, 'slow_start');
    this.window = openWindow(now);
    this.changed(signal, now, before);
  }

  private changed(signal: PaceSignal, now: number, before: { rate: number | undefined; concurrency: number }): void {
    this.signal = signal;
    this.signalAt = now;
    this.onChange?.(this.status, before);
  }

  private snapshot(): { rate: number | undefined; concurrency: number; mode: PaceMode } {
    return { rate: this.rate, concurrency: this.concurrency, mode: this.current };
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    if (!Number.isFinite(this.rateLimit)) {
      this.tokens = this.limits.burst;
      return;
    }
    this.tokens = Math.min(this.limits.burst, this.tokens + (elapsed * this.rateLimit) / 1000);
  }

  private clampRate(rate: number): number {
    return Math.min(this.limits.maxRate ?? Infinity, Math.max(this.limits.minRate, rate));
  }

  private clampConcurrency(concurrency: number): number {
    return Math.min(this.limits.maxConcurrency, Math.max(this.limits.minConcurrency, concurrency));
  }
}
