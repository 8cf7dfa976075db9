// Shared types and validation for toolkit types (src/toolkits/*.ts). Inputs and settings are
// checked by zod schemas made from each type's declarations; the same schemas describe the tools
// to the API (GET /toolkit-types), to OpenAPI and to MCP clients (JSON Schema).
import { z } from 'zod';

export type ToolInput = {
  name: string;
  label: string;
  type: 'string' | 'number' | 'boolean' | 'object';
  required: boolean;
  help?: string;
  /** Allowed values for a string input (matched case-insensitively, returned as listed). */
  options?: string[];
};

/** Settings are never secrets (e.g. github default_repository "owner/repo"). */
export type SettingDef = {
  name: string;
  label: string;
  required: boolean;
  help?: string;
  placeholder?: string;
  /** Extra check on a non-blank, trimmed value: null when fine, else a sentence. */
  validate?(value: string): string | null;
};

/** A call relative to the credential's base_url (path is appended to it as text). */
export type PlannedCall = {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
};

export type PlanError = { error: string; field?: string };

export type ToolDef = {
  name: string;
  label: string;
  description: string;
  input: ToolInput[];
  plan(input: Record<string, unknown>, settings: Record<string, string>): PlannedCall | PlanError;
  /**
   * For APIs that answer 2xx on failure (Slack's `ok: false`): the API's error
   * code when the response body says the call failed, otherwise undefined.
   */
  failed?(body: unknown): string | undefined;
};

export type ToolkitType = {
  type: string;
  label: string;
  description: string;
  /** Credential types (src/domain/credential-types.ts) this toolkit can use. */
  credentialTypes: string[];
  settings: SettingDef[];
  tools: ToolDef[];
};

export const SETTING_MAX_LENGTH = 2000;

export function isPlanError(result: PlannedCall | PlanError): result is PlanError {
  return typeof (result as PlanError).error === 'string';
}

function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function lowerFirst(label: string): string {
  return /^[A-Z][a-z]/.test(label) ? label[0].toLowerCase() + label.slice(1) : label;
}

/** Key used in `errors` for problems with the input as a whole. */
export const FORM_ERROR_KEY = '_form';

/** The longest text a tool input may hold (an issue body, a JQL query, a JSON body as text). */
export const TOOL_TEXT_MAX_LENGTH = 65_536;

/** The error map of a failed parse: one message per input (the first), `_form` for the whole. */
function errorsOf(issues: z.core.$ZodIssue[], unknownKey: (key: string) => string): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) if (!Object.hasOwn(errors, key)) put(errors, key, unknownKey(key.slice(0, 100)));
      continue;
    }
    const key = issue.path.length ? String(issue.path[0]) : FORM_ERROR_KEY;
    if (!Object.hasOwn(errors, key)) put(errors, key, issue.message);
  }
  return errors;
}

/** The schema of one tool input: its type, its length limit, its options, and its messages. */
function inputSchema(def: ToolInput): z.ZodType {
  const missing = `Enter the ${lowerFirst(def.label)}.`;
  const meta = { title: def.label, ...(def.help ? { description: def.help } : {}) };
  const message = (wrong: string) => (iss: { input?: unknown }) => (iss.input === undefined ? missing : wrong);
  let schema: z.ZodType;
  switch (def.type) {
    case 'string':
      schema = def.options
        ? z.enum(def.options as [string, ...string[]], { error: message(`${def.label} must be one of ${def.options.join(', ')}.`) })
        : z.string({ error: message(`${def.label} must be text.`) }).max(TOOL_TEXT_MAX_LENGTH, `${def.label} can be at most ${TOOL_TEXT_MAX_LENGTH} characters long.`);
      break;
    case 'number':
      schema = z.number({ error: message(`${def.label} must be a number.`) });
      break;
    case 'boolean':
      schema = z.boolean({ error: message(`${def.label} must be true or false.`) });
      break;
    case 'object':
      schema = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())], {
        error: (iss) => (iss.input === undefined ? missing : typeof iss.input === 'string' ? `${def.label} must be valid JSON.` : `${def.label} must be a JSON object.`),
      });
      break;
  }
  schema = schema.meta(meta);
  return def.required ? schema : schema.optional();
}

/** The zod schema of a tool's input (strict: unknown inputs are errors). */
export function toolInputSchema(tool: ToolDef) {
  // Made once per tool: building (and zod's compiling) it on every run showed in the execute
  // path's profile (bench/analysis.md). Tool definitions are constants.
  let schema = inputSchemas.get(tool);
  if (!schema) inputSchemas.set(tool, (schema = z.strictObject(Object.fromEntries(tool.input.map((d) => [d.name, inputSchema(d)])))));
  return schema;
}

const inputSchemas = new WeakMap<ToolDef, z.ZodObject>();

/** Form-friendly coercions before the schema: blank is absent, numbers and booleans from text, JSON text. */
function coerceToolInput(tool: ToolDef, input: Record<string, unknown>): Record<string, unknown> {
  const defs = new Map(tool.input.map((d) => [d.name, d]));
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(input)) {
    const def = defs.get(key);
    if (!def) {
      put(out, key, raw);
      continue;
    }
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) continue;
    let value = raw;
    if (typeof raw === 'string') {
      if (def.type === 'number' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw)) value = Number(raw.trim());
      else if (def.type === 'boolean' && ['true', 'on', 'false'].includes(raw.trim().toLowerCase())) value = raw.trim().toLowerCase() !== 'false';
      else if (def.type === 'object') {
        try {
          value = JSON.parse(raw);
        } catch {
          /* left as text: the schema says it is not valid JSON */
        }
      } else if (def.options) value = def.options.find((o) => o.toLowerCase() === raw.trim().toLowerCase()) ?? raw;
    }
    put(out, key, value);
  }
  return out;
}

/**
 * Checks a tool's input against its schema: required inputs present, types right, no unknown
 * keys. Form-friendly coercions first: numbers from numeric strings, booleans from
 * "true"/"false"/"on", objects from JSON text. Blank strings count as absent.
 */
export function validateToolInput(
  tool: ToolDef,
  input: unknown,
): { ok: true; input: Record<string, unknown> } | { ok: false; errors: Record<string, string> } {
  if (input === undefined || input === null) input = {};
  if (!isRecord(input)) return { ok: false, errors: { [FORM_ERROR_KEY]: 'The tool input must be an object of named values.' } };
  const parsed = toolInputSchema(tool).safeParse(coerceToolInput(tool, input));
  if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error.issues, (key) => `The ${tool.label} tool has no input called "${key}".`) };
  return { ok: true, input: parsed.data as Record<string, unknown> };
}

/** The zod schema of a toolkit type's settings: optional one-line texts of at most 2,000 characters. */
export function settingsSchema(toolkitType: ToolkitType) {
  return z.strictObject(
    Object.fromEntries(
      toolkitType.settings.map((def) => {
        let schema = z
          .string({ error: (iss) => (iss.input === undefined ? `Enter the ${lowerFirst(def.label)}.` : `${def.label} must be text.`) })
          .max(SETTING_MAX_LENGTH, `${def.label} can be at most ${SETTING_MAX_LENGTH} characters long.`)
          .regex(/^[^\u0000-\u001f\u007f]*$/, `${def.label} cannot contain line breaks or control characters.`)
          .meta({ title: def.label, ...(def.help ? { description: def.help } : {}) });
        if (def.validate) {
          const check = def.validate;
          schema = schema.superRefine((value, ctx) => {
            const problem = check(value);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          });
        }
        return [def.name, def.required ? schema : schema.optional()];
      }),
    ),
  );
}

/**
 * Checks a toolkit's settings against the type's schema: strings only, trimmed, required ones
 * present, no unknown names, each passing its own `validate`. Blank optional settings are left
 * out of the result.
 */
export function validateSettings(
  toolkitType: ToolkitType,
  settings: unknown,
): { ok: true; settings: Record<string, string> } | { ok: false; errors: Record<string, string> } {
  if (settings === undefined || settings === null) settings = {};
  if (!isRecord(settings)) return { ok: false, errors: { [FORM_ERROR_KEY]: 'The settings must be an object of named values.' } };
  const trimmed: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(settings)) {
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (value === '' || value === null || value === undefined) continue;
    put(trimmed, key, value);
  }
  const parsed = settingsSchema(toolkitType).safeParse(trimmed);
  if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error.issues, (key) => `${toolkitType.label} toolkits have no setting called "${key}".`) };
  return { ok: true, settings: parsed.data as Record<string, string> };
}

// ---------------------------------------------------------------------------
// Helpers for plan() implementations

/** A trimmed non-blank string from the input, else the trimmed setting, else undefined. */
export function pick(
  input: Record<string, unknown>,
  name: string,
  settings?: Record<string, string>,
  settingName?: string,
): string | undefined {
  const v = input[name];
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (settings && settingName) {
    const s = settings[settingName];
    if (typeof s === 'string' && s.trim() !== '') return s.trim();
  }
  return undefined;
}

/** A string input kept as typed (not trimmed), or undefined when absent/blank. */
export function text(input: Record<string, unknown>, name: string): string | undefined {
  const v = input[name];
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** A positive integer input (number or numeric string) within [1, max], or an error. */
export function positiveInt(
  input: Record<string, unknown>,
  name: string,
  label: string,
  max: number,
): { value?: number } | PlanError {
  const v = input[name];
  if (v === undefined || v === null || v === '') return {};
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    return { error: `${label} must be a whole number from 1 to ${max}.`, field: name };
  }
  return { value: n };
}
