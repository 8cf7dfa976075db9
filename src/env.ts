// The types every sub-app shares: what middleware puts on the context, and the app's dependencies.
import type { DeviceCookies } from './auth/device-cookie';
import type { SessionAuth, SessionUser } from './auth/session';
import type { Config } from './config';
import type { Store } from './store/store';
import type { Workspace } from './store/workspaces';
import type { Metrics } from './http/metrics';
import type { OutboundClient } from './http/outbound';
import type { Logger } from './log';

export type Deps = {
  store: Store;
  config: Config;
  log: Logger;
  metrics: Metrics;
  auth: SessionAuth;
  outbound: OutboundClient;
  /** Sign-in failures per account and per address (untrusted clients) and per device cookie. */
  throttle: { account: Throttle; address: Throttle; device: Throttle };
  devices: DeviceCookies;
};


import type { Throttle } from './auth/throttle';

export type AppEnv = {
  Variables: {
    requestId: string;
    /** The signed-in user (browser session or API token), or null. */
    user: SessionUser | null;
    sessionId: string | null;
    /** The workspace named in the path, already checked against the user (see loadWorkspace). */
    ws: Workspace;
  };
};
