import { pick, text, type ToolkitType } from './types';

/** Slack answers 200 with `ok: false`: its error code, or undefined when ok. */
export function slackFailure(body: unknown): string | undefined {
  if (body !== null && typeof body === 'object' && (body as { ok?: unknown }).ok === true) {
    return undefined;
  }
  const error = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return typeof error === 'string' && error !== '' ? error : 'unknown_error';
}

export const slackToolkit: ToolkitType = {
  type: 'slack',
  label: 'Slack',
  description: 'Check your Slack token and post messages.',
  credentialTypes: ['slack'],
  settings: [
    {
      name: 'default_channel',
      label: 'Default channel',
      required: false,
      placeholder: '#general or C0123456789',
      help: 'Channel used when a tool is not given one.',
    },
  ],
  tools: [
    {
      name: 'auth_test',
      label: 'Auth test',
      description: 'Checks the token and returns the Slack user and workspace it belongs to.',
      input: [],
      plan: () => ({ method: 'POST', path: '/api/auth.test' }),
      failed: slackFailure,
    },
    {
      name: 'post_message',
      label: 'Post message',
      description: 'Posts a message to a channel.',
      input: [
        {
          name: 'channel',
          label: 'Channel',
          type: 'string',
          required: false,
          help: "Channel name or ID; defaults to the toolkit's default channel.",
        },
        { name: 'text', label: 'Text', type: 'string', required: true },
      ],
      plan: (input, settings) => {
        const channel = pick(input, 'channel', settings, 'default_channel');
        if (channel === undefined) {
          return {
            error: 'Enter a channel, or set a default channel for this toolkit.',
            field: 'channel',
          };
        }
        const message = text(input, 'text');
        if (message === undefined) return { error: 'Enter the message text.', field: 'text' };
        return { method: 'POST', path: '/api/chat.postMessage', body: { channel, text: message } };
      },
      failed: slackFailure,
    },
  ],
};
