/** The worker's version (kept equal to package.json by a test) and the `bridge_agent` it pops with. */
export const WORKER_VERSION = '0.1.0';
export const WORKER_URL = 'https://github.com/hordekit/hordekit';

/** `hordekit-worker:<version>:<url>`; the horde reads its capabilities from the name and version. */
export const BRIDGE_AGENT = `hordekit-worker:${WORKER_VERSION}:${WORKER_URL}`;
