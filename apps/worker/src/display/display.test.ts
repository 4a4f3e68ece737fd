import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobView, Notice, WorkerSnapshot } from '../status.js';
import {
  fitModels,
  formatClock,
  formatDuration,
  formatHeader,
  formatJobLine,
  formatKudos,
  formatLogLine,
  formatModels,
  formatRate,
  formatState,
  progressBar,
} from './format.js';
import { createPlainReporter } from './plain.js';
import { createTerminalDisplay } from './terminal.js';

const T0 = Date.parse('2026-11-26T03:00:00.000Z');
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g;

function snapshot(overrides: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    name: 'gpu-1',
    kind: 'image',
    backend: 'a1111',
    state: 'running',
    models: ['SDXL 1.0'],
    inFlight: [],
    done: 0,
    faulted: 0,
    dropped: 0,
    kudos: 0,
    megapixelstepsPerSecond: 1.25,
    tokensPerSecond: 0,
    ...overrides,
  };
}

function job(overrides: Partial<JobView> = {}): JobView {
  return {
    id: '01a215d3-0000-7000-8000-00001a2b3c4d',
    kind: 'image',
    model: 'SDXL 1.0',
    summary: '1024×1024 · 30 steps',
    phase: 'generating',
    startedAt: T0,
    ...overrides,
  };
}

/** A terminal-like stream: records each `write` as one chunk. */
function fakeTerminal(isTTY = true, columns = 100) {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns,
    rows: 40,
    write(chunk: string | Uint8Array) {
      chunks.push(String(chunk));
      return true;
    },
  };
  return {
    stream: stream as unknown as NodeJS.WriteStream,
    chunks,
    text: () => chunks.join('').replace(ANSI, ''),
    /** The last frame log-update drew, without escape codes. */
    lastFrame: () => (chunks.at(-1) ?? '').replace(ANSI, ''),
  };
}

function collect() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

describe('format', () => {
  it('formats durations from tenths of a second to hours', () => {
    expect(formatDuration(400)).toBe('0.4 s');
    expect(formatDuration(4_200)).toBe('4.2 s');
    expect(formatDuration(42_900)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 m 05 s');
    expect(formatDuration(7_620_000)).toBe('2 h 07 m');
    expect(formatDuration(-5)).toBe('0.0 s');
  });

  it('formats kudos with one decimal and speeds per worker kind', () => {
    expect(formatKudos(12.34)).toBe('12.3');
    expect(formatKudos(1234.56)).toBe('1,234.6');
    expect(formatKudos(0)).toBe('0.0');
    expect(formatRate(snapshot({ megapixelstepsPerSecond: 1.234 }))).toBe('1.23 MPS/s');
    expect(formatRate(snapshot({ kind: 'text', tokensPerSecond: 45.67 }))).toBe('45.7 tokens/s');
  });

  it('draws progress bars of the given width and clamps the fraction', () => {
    expect(progressBar(0.57, 14)).toBe('[########------] 57%');
    expect(progressBar(0, 4)).toBe('[----] 0%');
    expect(progressBar(1.5, 4)).toBe('[####] 100%');
    expect(progressBar(Number.NaN, 4)).toBe('[----] 0%');
  });

  it('lists the first models and counts the rest', () => {
    expect(formatModels([])).toBe('no models');
    expect(formatModels(['a', 'b'])).toBe('a, b');
    expect(formatModels(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c +2 more');
  });

  it('fits as many model names as the room allows', () => {
    const models = ['SDXL 1.0', 'stable_diffusion', 'Deliberate', 'Flux.1-Schnell fp8 (Compact)'];
    expect(fitModels(models, 100)).toBe('SDXL 1.0, stable_diffusion, Deliberate +1 more');
    expect(fitModels(models, 40)).toBe('SDXL 1.0, stable_diffusion +2 more');
    expect(fitModels(models, 20)).toBe('SDXL 1.0 +3 more');
    expect(fitModels(models, 5)).toBe('4 models');
    expect(fitModels([], 5)).toBe('no models');
    const wide = formatHeader(snapshot({ models, done: 12, faulted: 1 }), T0, 120);
    expect(wide).toBe(
      'gpu-1 · a1111 · running · SDXL 1.0, stable_diffusion, Deliberate +1 more · 12 done, 1 faulted · 0.0 kudos · 1.25 MPS/s',
    );
    expect(wide.length).toBeLessThanOrEqual(119);
    const header = formatHeader(snapshot({ models, done: 12, faulted: 1 }), T0, 100);
    expect(header).toContain(' · SDXL 1.0 +3 more · ');
    expect(header.length).toBeLessThan(100);
  });

  it('phrases states: paused with the time left and the reason, draining with the jobs in flight', () => {
    const paused = snapshot({ state: 'paused', pausedUntil: T0 + 41_200, pauseReason: 'check your API key' });
    expect(formatState(paused, T0)).toBe('paused 42 s: check your API key');
    expect(formatState(snapshot({ state: 'draining', inFlight: [job()] }), T0)).toBe(
      'draining (1 in flight)',
    );
    expect(formatState(snapshot(), T0)).toBe('running');
  });

  it('builds a header with every field', () => {
    const header = formatHeader(
      snapshot({ done: 12, faulted: 1, dropped: 2, kudos: 140.26, models: ['a', 'b', 'c', 'd'] }),
      T0,
    );
    expect(header).toBe(
      'gpu-1 · a1111 · running · a, b, c +1 more · 12 done, 1 faulted, 2 dropped · 140.3 kudos · 1.25 MPS/s',
    );
    expect(formatHeader(snapshot(), T0)).toBe(
      'gpu-1 · a1111 · running · SDXL 1.0 · 0 done · 0.0 kudos · 1.25 MPS/s',
    );
  });

  it('fits a job line with its progress bar into the terminal width', () => {
    const line = formatJobLine(job({ progress: 0.57 }), T0 + 12_300, 100);
    expect(line).toMatch(
      /^ {2}1a2b3c4d {2}SDXL 1\.0 {2}1024×1024 · 30 steps {2}generating {2}12 s {2}\[#+-+\] 57%$/,
    );
    expect(line.length).toBeLessThanOrEqual(99);
    const wide = formatJobLine(job({ progress: 0.5 }), T0, 300);
    expect(wide).toContain(`[${'#'.repeat(20)}${'-'.repeat(20)}] 50%`);
    expect(formatJobLine(job({ progress: 0.5 }), T0, 60)).toMatch(/generating {2}0\.0 s {2}50%$/);
    expect(formatJobLine(job(), T0, 100)).not.toContain('%');
  });

  it('formats log lines and clock times', () => {
    expect(formatLogLine(T0, 'info', 'gpu-1', 'hello')).toBe('2026-11-26T03:00:00.000Z info  gpu-1: hello');
    expect(formatLogLine(T0, 'error', 'gpu-1', 'oops')).toBe('2026-11-26T03:00:00.000Z error gpu-1: oops');
    expect(formatClock(T0)).toMatch(/^\d\d:\d\d:00$/);
  });
});

describe('terminal display', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('draws a header per worker and a line per job with a progress bar', () => {
    const term = fakeTerminal();
    const display = createTerminalDisplay({ stream: term.stream });
    display.update(
      snapshot({
        done: 3,
        kudos: 36.94,
        skipped: '2 requests need models you do not serve',
        inFlight: [job({ progress: 0.57, startedAt: T0 - 4_200 })],
      }),
    );
    const frame = term.lastFrame();
    expect(frame).toContain('gpu-1 · a1111 · running · SDXL 1.0 · 3 done · 36.9 kudos · 1.25 MPS/s');
    expect(frame).toContain('  skipped: 2 requests need models you do not serve');
    expect(frame).toMatch(
      / {2}1a2b3c4d {2}SDXL 1\.0 {2}1024×1024 · 30 steps {2}generating {2}4\.2 s {2}\[#+-+\] 57%/,
    );
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    display.close();
  });

  it('keeps one block per worker name and kind', () => {
    const term = fakeTerminal();
    const display = createTerminalDisplay({ stream: term.stream, refreshMs: 0 });
    display.update(snapshot({ name: 'box' }));
    display.update(snapshot({ name: 'box', kind: 'text', backend: 'koboldcpp', tokensPerSecond: 12.5 }));
    display.close();
    const frame = term.lastFrame();
    expect(frame).toContain('box · a1111 · running');
    expect(frame).toContain('box · koboldcpp · running');
    expect(frame).toContain('12.5 tokens/s');
  });

  it('colours only on a TTY', () => {
    const tty = fakeTerminal(true);
    const display = createTerminalDisplay({ stream: tty.stream });
    display.update(snapshot());
    display.close();
    expect(tty.chunks.join('')).toContain('\u001B[32mrunning\u001B[39m');

    const pipe = fakeTerminal(false);
    const plain = createTerminalDisplay({ stream: pipe.stream });
    plain.update(snapshot());
    plain.notice({ level: 'warn', worker: 'gpu-1', message: 'slow', at: T0 });
    plain.close();
    const written = pipe.chunks.join('');
    expect(written).toContain('running');
    expect(written).not.toContain('\u001B[32m');
    expect(written).not.toContain('\u001B[33m');
  });

  it('throttles: many updates give one immediate frame and one more per interval', () => {
    const term = fakeTerminal();
    const display = createTerminalDisplay({ stream: term.stream, refreshMs: 250 });
    for (let done = 1; done <= 50; done++) display.update(snapshot({ done }));
    expect(term.chunks).toHaveLength(1);
    expect(term.lastFrame()).toContain('1 done');
    vi.advanceTimersByTime(249);
    expect(term.chunks).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(term.chunks).toHaveLength(2);
    expect(term.lastFrame()).toContain('50 done');
    // Nothing changed and nothing counts: no more frames.
    vi.advanceTimersByTime(5_000);
    expect(term.chunks).toHaveLength(2);
    for (let done = 51; done <= 100; done++) {
      display.update(snapshot({ done }));
      vi.advanceTimersByTime(10);
    }
    // 500 ms of updates every 10 ms: at most one frame per 250 ms.
    expect(term.chunks.length).toBeGreaterThanOrEqual(3);
    expect(term.chunks.length).toBeLessThanOrEqual(5);
    display.close();
    expect(term.lastFrame()).toContain('100 done');
  });

  it('redraws on its own while a countdown or an elapsed time runs', () => {
    const term = fakeTerminal();
    const display = createTerminalDisplay({ stream: term.stream });
    display.update(snapshot({ state: 'paused', pausedUntil: T0 + 30_000, pauseReason: 'the horde is down' }));
    expect(term.lastFrame()).toContain('paused 30 s: the horde is down');
    // A leading frame, one 250 ms later, then one a second: the one at 10.25 s shows 19.75 s, rounded up.
    vi.advanceTimersByTime(10_250);
    expect(term.lastFrame()).toContain('paused 20 s: the horde is down');
    expect(term.chunks.length).toBeLessThanOrEqual(12);
    display.close();
  });

  it('prints notices above the live block and redraws it', () => {
    const term = fakeTerminal();
    const display = createTerminalDisplay({ stream: term.stream });
    display.update(snapshot({ done: 7 }));
    const notice: Notice = {
      level: 'error',
      worker: 'gpu-1',
      message: 'the backend stopped answering',
      at: T0,
    };
    display.notice(notice);
    const text = term.text();
    const noticeAt = text.indexOf(`${formatClock(T0)} error gpu-1: the backend stopped answering\n`);
    expect(noticeAt).toBeGreaterThan(0);
    // After the notice the block is drawn again, below it.
    expect(text.lastIndexOf('7 done')).toBeGreaterThan(noticeAt);
    // log-update erased the old block before the notice line was written.
    const clearChunk = term.chunks[term.chunks.length - 3] ?? '';
    expect(clearChunk).toContain('\u001B[2K');
    display.close();
  });

  it('close draws a final frame and stops redrawing', () => {
    const term = fakeTerminal();
    const display = createTerminalDisplay({ stream: term.stream });
    display.update(snapshot({ done: 1 }));
    display.update(snapshot({ done: 2, state: 'stopped' }));
    expect(term.lastFrame()).toContain('1 done');
    display.close();
    expect(term.lastFrame()).toContain('2 done');
    expect(term.lastFrame()).toContain('stopped');
    const count = term.chunks.length;
    display.update(snapshot({ done: 3 }));
    vi.advanceTimersByTime(5_000);
    expect(term.chunks).toHaveLength(count);
    display.notice({ level: 'info', worker: 'gpu-1', message: 'bye', at: T0 });
    expect(term.chunks.at(-1)?.replace(ANSI, '')).toBe(`${formatClock(T0)} info  gpu-1: bye\n`);
  });
});

describe('plain reporter', () => {
  it('prints each notice as one time-stamped line', () => {
    const out = collect();
    const reporter = createPlainReporter({ stream: out.stream, now: () => T0 });
    reporter.notice({
      level: 'info',
      worker: 'gpu-1',
      message: 'connected to http://127.0.0.1:7001',
      at: T0,
    });
    reporter.notice({ level: 'warn', worker: 'gpu-1', message: 'pop failed', at: T0 + 1000 });
    expect(out.lines()).toEqual([
      '2026-11-26T03:00:00.000Z info  gpu-1: connected to http://127.0.0.1:7001',
      '2026-11-26T03:00:01.000Z warn  gpu-1: pop failed',
    ]);
  });

  it('prints starts, finishes with duration and kudos, and state changes; never progress', () => {
    let clock = T0;
    const out = collect();
    const reporter = createPlainReporter({ stream: out.stream, now: () => clock });
    const a = job({ startedAt: T0 });
    reporter.update(snapshot({ state: 'starting' }));
    reporter.update(snapshot());
    clock += 100;
    reporter.update(snapshot({ inFlight: [a] }));
    for (const progress of [0.1, 0.5, 0.9]) {
      clock += 1000;
      reporter.update(snapshot({ inFlight: [{ ...a, progress }] }));
    }
    clock = T0 + 4_200;
    reporter.update(snapshot({ done: 1, kudos: 12.34 }));
    const b = job({ id: '1111-bbbbbbbb', startedAt: clock, summary: '512×512 · 20 steps' });
    reporter.update(snapshot({ done: 1, kudos: 12.34, inFlight: [b] }));
    clock += 2_000;
    reporter.update(snapshot({ done: 1, faulted: 1, kudos: 12.34 }));
    reporter.update(
      snapshot({
        done: 1,
        faulted: 1,
        kudos: 12.34,
        state: 'paused',
        pausedUntil: clock + 60_000,
        pauseReason: 'too many errors',
      }),
    );
    const lines = out.lines().map((line) => line.slice(25));
    expect(lines).toEqual([
      'info  gpu-1: starting: image worker on a1111, SDXL 1.0',
      'info  gpu-1: running',
      'info  gpu-1: started 1a2b3c4d SDXL 1.0 1024×1024 · 30 steps',
      'info  gpu-1: done 1a2b3c4d in 4.2 s, +12.3 kudos',
      'info  gpu-1: started bbbbbbbb SDXL 1.0 512×512 · 20 steps',
      'info  gpu-1: faulted bbbbbbbb after 2.0 s',
      'info  gpu-1: paused 60 s: too many errors',
    ]);
    expect(out.lines().join('\n')).not.toMatch(/\[#|%/);
  });

  it('matches counters that move before the job leaves, and shares kudos of jobs that end together', () => {
    let clock = T0;
    const out = collect();
    const reporter = createPlainReporter({ stream: out.stream, now: () => clock });
    const a = job({ id: '1-aaaaaaaa' });
    const b = job({ id: '2-bbbbbbbb' });
    reporter.update(snapshot({ inFlight: [a, b] }));
    clock += 3_000;
    reporter.update(snapshot({ inFlight: [a, b], done: 2, kudos: 20 }));
    reporter.update(snapshot({ inFlight: [], done: 2, kudos: 20 }));
    const lines = out.lines().map((line) => line.slice(25));
    expect(lines.slice(-2)).toEqual([
      'info  gpu-1: done aaaaaaaa in 3.0 s, +10.0 kudos',
      'info  gpu-1: done bbbbbbbb in 3.0 s, +10.0 kudos',
    ]);
  });

  it('reports a job that left without a counter move after a grace period', () => {
    let clock = T0;
    const out = collect();
    const reporter = createPlainReporter({ stream: out.stream, now: () => clock });
    reporter.update(snapshot({ inFlight: [job()] }));
    clock += 1_000;
    reporter.update(snapshot());
    expect(out.lines().some((line) => line.includes('1a2b3c4d after'))).toBe(false);
    clock += 6_000;
    reporter.update(snapshot({ megapixelstepsPerSecond: 2 }));
    expect(out.lines().at(-1)).toBe('2026-11-26T03:00:07.000Z info  gpu-1: ended 1a2b3c4d after 1.0 s');
  });

  it('prints totals at most once a minute, and only after something moved', () => {
    let clock = T0;
    const out = collect();
    const reporter = createPlainReporter({ stream: out.stream, now: () => clock });
    reporter.update(snapshot());
    const totals = () => out.lines().filter((line) => line.includes('totals:'));
    for (let second = 1; second <= 150; second++) {
      clock = T0 + second * 1000;
      reporter.update(snapshot({ done: second, kudos: second * 2, megapixelstepsPerSecond: 1.5 }));
    }
    expect(totals()).toHaveLength(2);
    expect(totals()[0]).toBe(
      '2026-11-26T03:01:00.000Z info  gpu-1: totals: 60 done, 0 faulted, 0 dropped, 120.0 kudos, 1.50 MPS/s',
    );
    // The last 30 s of moves are reported a minute after the previous totals, then nothing moves any more.
    clock += 120_000;
    reporter.update(snapshot({ done: 150, kudos: 300, megapixelstepsPerSecond: 0 }));
    expect(totals()).toHaveLength(3);
    expect(totals()[2]).toContain('totals: 150 done, 0 faulted, 0 dropped, 300.0 kudos, 0.00 MPS/s');
    clock += 120_000;
    reporter.update(snapshot({ done: 150, kudos: 300, megapixelstepsPerSecond: 0 }));
    expect(totals()).toHaveLength(3);
  });
});
