// Shared types and validation for toolkit types (src/toolkits/*.ts).

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

/**
 * Checks a tool's input: required inputs present, types right, no unknown
 * keys. Form-friendly coercions: numbers from numeric strings, booleans from
 * "true"/"false"/"on", objects from JSON text. Blank strings count as absent.
 */
export function validateToolInput(
  tool: ToolDef,
  input: unknown,
): { ok: true; input: Record<string, unknown> } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const out: Record<string, unknown> = {};
  if (input === undefined || input === null) input = {};
  if (!isRecord(input)) {
    return { ok: false, errors: { [FORM_ERROR_KEY]: 'The tool input must be an object of named values.' } };
  }
  const defs = new Map(tool.input.map((d) => [d.name, d]));
  for (const key of Object.keys(input)) {
    if (!defs.has(key)) {
      put(errors, key, `The ${tool.label} tool has no input called "${key.slice(0, 100)}".`);
    }
  }
  for (const def of tool.input) {
    const raw = Object.hasOwn(input, def.name) ? input[def.name] : undefined;
    const missing =
      raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
    if (missing) {
      if (def.required) put(errors, def.name, `Enter the ${lowerFirst(def.label)}.`);
      continue;
    }
    const result = coerce(def, raw);
    if ('error' in result) put(errors, def.name, result.error);
    else put(out, def.name, result.value);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, input: out };
}

function coerce(def: ToolInput, raw: unknown): { value: unknown } | { error: string } {
  switch (def.type) {
    case 'string': {
      if (typeof raw !== 'string') return { error: `${def.label} must be text.` };
      if (def.options) {
        const match = def.options.find((o) => o.toLowerCase() === raw.trim().toLowerCase());
        if (match === undefined) {
          return { error: `${def.label} must be one of ${def.options.join(', ')}.` };
        }
        return { value: match };
      }
      return { value: raw };
    }
    case 'number': {
      if (typeof raw === 'number') {
        return Number.isFinite(raw) ? { value: raw } : { error: `${def.label} must be a number.` };
      }
      if (typeof raw === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw)) {
        const n = Number(raw.trim());
        if (Number.isFinite(n)) return { value: n };
      }
      return { error: `${def.label} must be a number.` };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      if (typeof raw === 'string') {
        const v = raw.trim().toLowerCase();
        if (v === 'true' || v === 'on') return { value: true };
        if (v === 'false') return { value: false };
      }
      return { error: `${def.label} must be true or false.` };
    }
    case 'object': {
      if (typeof raw === 'string') {
        try {
          return { value: JSON.parse(raw) };
        } catch {
          return { error: `${def.label} must be valid JSON.` };
        }
      }
      if (typeof raw === 'object') return { value: raw };
      return { error: `${def.label} must be a JSON object.` };
    }
  }
}

/**
 * Checks a toolkit's settings: strings only, trimmed, required ones present,
 * no unknown names, each passing its own `validate`. Blank optional settings
 * are left out of the result.
 */
export function validateSettings(
  toolkitType: ToolkitType,
  settings: unknown,
): { ok: true; settings: Record<string, string> } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const out: Record<string, string> = {};
  if (settings === undefined || settings === null) settings = {};
  if (!isRecord(settings)) {
    return { ok: false, errors: { [FORM_ERROR_KEY]: 'The settings must be an object of named values.' } };
  }
  const defs = new Map(toolkitType.settings.map((d) => [d.name, d]));
  for (const key of Object.keys(settings)) {
    if (!defs.has(key)) {
      put(errors, key, `${toolkitType.label} toolkits have no setting called "${key.slice(0, 100)}".`);
    }
  }
  for (const def of toolkitType.settings) {
    const raw = Object.hasOwn(settings, def.name) ? settings[def.name] : undefined;
    if (raw !== undefined && raw !== null && typeof raw !== 'string') {
      put(errors, def.name, `${def.label} must be text.`);
      continue;
    }
    const value = (raw ?? '').trim();
    if (value === '') {
      if (def.required) put(errors, def.name, `Enter the ${lowerFirst(def.label)}.`);
      continue;
    }
    if (value.length > SETTING_MAX_LENGTH) {
      put(errors, def.name, `${def.label} can be at most ${SETTING_MAX_LENGTH} characters long.`);
      continue;
    }
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      put(errors, def.name, `${def.label} cannot contain line breaks or control characters.`);
      continue;
    }
    const problem = def.validate?.(value) ?? null;
    if (problem) {
      put(errors, def.name, problem);
      continue;
    }
    put(out, def.name, value);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, settings: out };
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
