import type { StreamStats } from './stream-timing.js';

/** The stream's one summary line in the event log: events, streams, first event, longest silence, resumes, delivery. */
export function timingLine(stats: StreamStats): string {
  const first = stats.time_to_first_event_seconds === null ? 'no event' : `first event after ${stats.time_to_first_event_seconds.toFixed(2)} s`;
  const silence = stats.longest_silence_seconds === null ? '' : `, longest silence ${stats.longest_silence_seconds.toFixed(2)} s`;
  const gaps = stats.gaps.length === 0 ? '' : `, ${stats.gaps.length} resume${stats.gaps.length === 1 ? '' : 's'}`;
  return `Stream: ${stats.events} events over ${stats.streams_opened} stream${stats.streams_opened === 1 ? '' : 's'}, ${first}${silence}${gaps}; delivery ${stats.delivery}`;
}

/** Rows of the report's Final Status for a streamed run. */
export function streamRows(stats: StreamStats | undefined): [string, string][] {
  if (!stats) return [];
  const seconds = (value: number | null) => (value === null ? '-' : `${value.toFixed(2)} s`);
  const rows: [string, string][] = [
    ['Stream events', `${stats.events} over ${stats.streams_opened} stream${stats.streams_opened === 1 ? '' : 's'}`],
    ['Time to first event', seconds(stats.time_to_first_event_seconds)],
    ['Longest silence', seconds(stats.longest_silence_seconds)],
    ['Server production time', stats.server_production_seconds === null ? '-' : `${stats.server_production_seconds} s (completed_at - created_at)`],
    ['Stream delivery', stats.delivery],
  ];
  for (const gap of stats.gaps) rows.push(['Stream gap', `after event ${gap.after ?? '-'}: ${gap.seconds.toFixed(1)} s, ${gap.missing} events missing`]);
  if (stats.fallback) rows.push(['Stream fallback', `${stats.fallback}; followed by polling`]);
  if (stats.finding) rows.push(['Stream finding', stats.finding]);
  return rows;
}

