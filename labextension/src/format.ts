/**
 * How the panel shows numbers: short, readable, and the same everywhere.
 */
import type { Schema } from './api';

/** `42 s`, `3 min 05 s`, `2 h 07 min`, `—` when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds) || seconds < 0) {
    return '—';
  }
  const s = Math.floor(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  }
  const h = Math.floor(m / 60);
  if (h < 48) {
    return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  }
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `512 B`, `1.5 KB`, `12 MB`, `3.1 GB` (powers of 1024, one decimal under 10). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !isFinite(bytes) || bytes < 0) {
    return '—';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** `37%`, `4.2%`, `—`. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !isFinite(value)) {
    return '—';
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)}%`;
}

/** `just now`, `5 min ago`, `3 h ago`, else the local date: for times in lists. */
export function formatAgo(
  when: string | number | null | undefined,
  now: number = Date.now()
): string {
  if (when === null || when === undefined) {
    return '—';
  }
  const ms = typeof when === 'number' ? when * 1000 : Date.parse(when);
  if (!isFinite(ms)) {
    return '—';
  }
  const seconds = Math.max(0, (now - ms) / 1000);
  if (seconds < 45) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.round(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.round(seconds / 3600)} h ago`;
  }
  return new Date(ms).toLocaleDateString();
}

/** A job command as one line: arguments with spaces quoted. */
export function formatCommand(command: string[] | string): string {
  if (typeof command === 'string') {
    return command;
  }
  return command.map(arg => (/[\s"']/.test(arg) ? JSON.stringify(arg) : arg)).join(' ');
}

/** The job states the server reports, and whether each is still going. */
export const ACTIVE_STATES = new Set(['queued', 'running']);

export function isActive(state: string): boolean {
  return ACTIVE_STATES.has(state);
}

/**
 * A sparkline path (SVG `d`) of the last `maxPoints` finite values, scaled to the box.
 * Returns '' when fewer than two finite values are there.
 */
export function sparklinePath(
  values: Array<number | null>,
  width: number,
  height: number,
  maxPoints = 200
): string {
  const finite = values.filter((v): v is number => v !== null && isFinite(v)).slice(-maxPoints);
  if (finite.length < 2) {
    return '';
  }
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const span = max - min || 1;
  const step = width / (finite.length - 1);
  return finite
    .map((v, i) => {
      const x = i * step;
      const y = height - ((v - min) / span) * height;
      return `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** The metric worth a mini chart: `loss` if there, else any `*loss`, else the first one. */
export function mainMetric(names: string[]): string | null {
  if (names.length === 0) {
    return null;
  }
  if (names.includes('loss')) {
    return 'loss';
  }
  const loss = names.find(n => /loss$/.test(n) && !n.startsWith('val'));
  return loss ?? names.find(n => /loss/.test(n)) ?? names[0];
}

/** `25%`, `25% · 1 min 30 s left`: how far a training is, as its log tells. */
export function formatProgress(progress: { fraction: number; eta: number | null }): string {
  const percent = `${Math.round(progress.fraction * 100)}%`;
  return progress.eta === null ? percent : `${percent} · ${formatDuration(progress.eta)} left`;
}

/**
 * Who may open an app besides admins and its publisher; all empty: every signed-in user. The
 * server leaves the empty lists out: the document names no property required, which the
 * generated types (all properties sent unless a schema says otherwise) cannot tell.
 */
export type IAudience = Partial<Schema<'Audience'>>;

export const AUDIENCE_KEYS: (keyof IAudience)[] = ['users', 'roles', 'groups'];

/**
 * "every signed-in user", or "users vera, val; roles viewer": the CLI's words. No audience: the
 * server sends an app's only to editors.
 */
export function describeAudience(audience: IAudience = {}): string {
  const parts = AUDIENCE_KEYS.filter(key => (audience[key] ?? []).length > 0).map(
    key => `${key} ${(audience[key] ?? []).join(', ')}`
  );
  return parts.join('; ') || 'every signed-in user';
}

/** "a, b , ,c" -> ["a", "b", "c"] */
export function splitNames(text: string): string[] {
  return text
    .split(',')
    .map(name => name.trim())
    .filter(name => name.length > 0);
}
