import type { ApiAnswer, Exchange } from '../api/client.js';
import { isPending } from '../api/response.js';
import { apiMark } from '../egress/answer-origin.js';

/**
 * What the answers of a run show about who gave them: a smoke test must not pass silently
 * against a stub. The API marks every answer (`x-request-id: req_...`, `openai-version`), and
 * a background create comes back with `background: true`, a pending status and the model asked
 * for (or a dated snapshot of it, `gpt-5.2-2025-12-11`). `--json` carries this object as is.
 */
export interface Evidence {
  /** HTTP answers received (any status). */
  answers: number;
  /** Answers that carried the API's own headers. */
  with_api_marks: number;
  /** 2xx answers without them: these, above all, did not come from the API. */
  unmarked_success: number;
  /** The `openai-version` header last seen, null when none was. */
  openai_version: string | null;
  /** What the create's answer showed; null for `poll` or when no create was answered. */
  create: CreateEvidence | null;
  /** The plain-words conclusion when the answers do not look like the OpenAI API's background mode; null when they do. */
  warning: string | null;
}

interface CreateEvidence {
  background: boolean | null;
  status: string | null;
  model: string | null;
  model_asked: string | null;
  /** The answer's model is the one asked for, or a snapshot of it. */
  model_matches: boolean | null;
}

/** Collects the evidence as the run's answers arrive. */
export class EvidenceCollector {
  readonly #evidence: Evidence = { answers: 0, with_api_marks: 0, unmarked_success: 0, openai_version: null, create: null, warning: null };

  /** Every request that got an HTTP answer counts (src/api/client.ts reports each). */
  noteExchange(exchange: Exchange): void {
    if (exchange.status === undefined) return;
    const e = this.#evidence;
    e.answers += 1;
    const marked = apiMark(exchange.responseHeaders) !== undefined;
    if (marked) e.with_api_marks += 1;
    else if (exchange.status >= 200 && exchange.status < 300) e.unmarked_success += 1;
    const version = exchange.responseHeaders['openai-version'];
    if (version !== undefined) e.openai_version = version.slice(0, 40);
  }

  noteCreate(answer: ApiAnswer, modelAsked: string | undefined): void {
    const r = answer.response as { background?: unknown; status?: unknown; model?: unknown };
    const model = typeof r.model === 'string' ? r.model : null;
    this.#evidence.create = {
      background: typeof r.background === 'boolean' ? r.background : null,
      status: typeof r.status === 'string' ? r.status : null,
      model,
      model_asked: modelAsked ?? null,
      model_matches: modelAsked === undefined || model === null ? null : isModelOrSnapshot(model, modelAsked),
    };
  }

  /** The evidence so far, with its conclusion. */
  summary(): Evidence {
    const e = { ...this.#evidence };
    e.warning = warningFor(e);
    return e;
  }
}

/**
 * `gpt-5.2` answered as `gpt-5.2` or a dated snapshot such as `gpt-5.2-2025-12-11`; older
 * models' snapshots are dated month and day only (`gpt-4` answers as `gpt-4-0613`).
 */
export function isModelOrSnapshot(model: string, asked: string): boolean {
  return model === asked || (model.startsWith(`${asked}-`) && /^(?:\d{4}-\d{2}-\d{2}|\d{4})$/.test(model.slice(asked.length + 1)));
}

function warningFor(e: Evidence): string | null {
  const problems: string[] = [];
  if (e.answers > 0 && e.with_api_marks === 0) {
    problems.push(`none of the ${e.answers} answers carried the OpenAI API's marks (x-request-id req_..., openai-* headers): they did not come from the OpenAI API`);
  } else if (e.unmarked_success > 0) {
    problems.push(`${e.unmarked_success} of the ${e.answers} answers came without the OpenAI API's marks (x-request-id req_..., openai-* headers): those did not come from the OpenAI API`);
  }
  const c = e.create;
  if (c !== null) {
    const off: string[] = [];
    if (c.background !== true) off.push(`background: ${c.background === null ? 'absent' : String(c.background)}`);
    if (c.status === null || !isPending(c.status)) off.push(`status ${c.status ?? '(none)'} where a background create answers queued or in_progress`);
    if (c.model_matches === false) off.push(`model ${JSON.stringify(c.model)} where ${JSON.stringify(c.model_asked)} was asked for`);
    if (off.length > 0) problems.push(`the create's answer was not a background response of the model asked for (${off.join('; ')}): it did not run in background on the OpenAI API`);
  }
  return problems.length === 0 ? null : `${problems.join('; and ')}. The status above is what that server said, not proof that background mode works`;
}
