import { STAGE_TITLES, type StageReport } from './check-stages.js';
import type { EndpointResult } from './probes.js';
import { controlLine, type ControlMatch } from './controls.js';

/** Everything `check` found; also its `--json` object. */
export interface CheckResult {
  readonly ok: boolean;
  /** Facts worth knowing beside the verdicts (an ignored ALL_PROXY, interception). */
  readonly notes: readonly string[];
  readonly base_url: string;
  readonly proxy: string;
  readonly trust: string;
  readonly key: string;
  readonly timeout_seconds: number;
  readonly stages: readonly StageReport[];
  readonly endpoints: readonly EndpointResult[];
  /** The egress control recognised in what check saw, with its fix (src/egress/controls.ts); null when none. */
  readonly control: ControlMatch | null;
  /** A control that fits what check saw but is not singled out by it (with `observed` and `alternatives`); null when none. */
  readonly possible_control: ControlMatch | null;
}

/** The human report: one line per stage and per endpoint, a hint under each failure, a verdict last. */
export function renderCheck(result: CheckResult): string {
  const lines: string[] = [
    `bgprobe check of ${result.base_url}`,
    `  proxy: ${result.proxy}`,
    `  trusted CAs: ${result.trust}`,
    `  API key: ${result.key}`,
    `  each stage bounded by ${result.timeout_seconds} s (--timeout)`,
    '',
    'Stages',
  ];
  for (const stage of result.stages) {
    const ms = stage.ms === null ? '' : `${stage.ms} ms`;
    lines.push(`  ${mark(stage.status).padEnd(5)} ${STAGE_TITLES[stage.name].padEnd(14)} ${ms.padStart(8)}  ${stage.detail}`);
    for (const [i, cert] of (stage.chain ?? []).entries()) {
      lines.push(`        [${i}] subject "${cert.subject}", issuer "${cert.issuer}", sha256 ${cert.sha256}`);
    }
    if (stage.hint && stage.status === 'failed') lines.push(`        hint: ${stage.hint}`);
  }
  lines.push('', 'Endpoints');
  // Columns as wide as their longest entry: a long base path or `wrong-server` must not shift the rest.
  const verdictWidth = Math.max(11, ...result.endpoints.map((e) => e.verdict.length));
  const pathWidth = Math.max(40, ...result.endpoints.map((e) => e.method.length + 1 + e.path.length));
  for (const ep of result.endpoints) {
    const ms = ep.ms === null ? '' : `${ep.ms} ms`;
    const required = ep.required ? '' : ' (optional)';
    lines.push(`  ${ep.verdict.padEnd(verdictWidth)} ${`${ep.method} ${ep.path}`.padEnd(pathWidth)} ${ms.padStart(8)}  ${ep.name}${required}: ${ep.detail}`);
    // An endpoint not probed because a stage failed shares that stage's hint, printed above.
    if (ep.hint && ep.verdict !== 'ok' && !ep.detail.startsWith('not sent:')) lines.push(`        hint: ${ep.hint}`);
  }
  if (result.notes.length > 0) lines.push('', 'Notes', ...result.notes.map((n) => `  - ${n}`));
  const bad = result.endpoints.filter((e) => e.required && e.verdict !== 'ok');
  if (result.control) lines.push('', `Verdict: ${controlLine(result.control)}`);
  // Not a verdict: what was seen, and each cause that would look the same.
  if (result.possible_control) lines.push('', `Cause not certain: ${controlLine(result.possible_control)}`);
  lines.push(
    '',
    result.ok
      ? 'Result: every required endpoint reaches the API. A run can work from here.'
      : `Result: ${bad.map((e) => `${e.name} ${e.verdict}`).join(', ')}. A run cannot work from here until that is fixed.`,
  );
  return `${lines.join('\n')}\n`;
}

function mark(status: StageReport['status']): string {
  return status === 'ok' ? 'ok' : status === 'failed' ? 'FAIL' : 'skip';
}
