// The catalog of toolkit types. Adding a toolkit type = adding one file and
// one entry here.

import { confluenceToolkit } from './confluence';
import { githubToolkit } from './github';
import { gitlabToolkit } from './gitlab';
import { httpToolkit } from './http';
import { jiraToolkit } from './jira';
import { slackToolkit } from './slack';
import { z } from 'zod';
import { toolInputSchema, type ToolDef, type ToolkitType } from './types';

export * from './types';

export const TOOLKIT_TYPES: ToolkitType[] = [
  githubToolkit,
  gitlabToolkit,
  jiraToolkit,
  confluenceToolkit,
  slackToolkit,
  httpToolkit,
];

const BY_TYPE = new Map(TOOLKIT_TYPES.map((t) => [t.type, t]));

export function getToolkitType(type: string): ToolkitType | undefined {
  return BY_TYPE.get(type);
}

/** Returns a tool of a toolkit type by name, or undefined. */
export function getTool(toolkitType: ToolkitType | string, name: string): ToolDef | undefined {
  const t = typeof toolkitType === 'string' ? getToolkitType(toolkitType) : toolkitType;
  return t?.tools.find((tool) => tool.name === name);
}

/** Toolkit types that can run with a credential of the given credential type. */
export function toolkitTypesForCredentialType(credentialType: string): ToolkitType[] {
  return TOOLKIT_TYPES.filter((t) => t.credentialTypes.includes(credentialType));
}

/**
 * Returns the JSON Schema (draft 2020-12) of a tool's input, or null when there is no such tool:
 * what MCP clients and the OpenAPI document are given, made from the same zod schema that checks it.
 */
export function toolInputJsonSchema(toolkitType: ToolkitType | string, toolName: string): Record<string, unknown> | null {
  const tool = getTool(toolkitType, toolName);
  return tool ? (z.toJSONSchema(toolInputSchema(tool)) as Record<string, unknown>) : null;
}
