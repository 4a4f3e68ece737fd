/**
 * Several community-horde processes (`app-process.ts`) serving one horde: the same PostgreSQL database and
 * Redis, a data directory each. Each node's output is watched for the sweeps-leader line the app logs at
 * info level, with its time, so a test can tell which node leads and how fast another takes over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppProcess, startApp, stopApp } from './app-process.js';

const LEADER_LINE = '"msg":"this node now runs the sweeps"';

export interface ClusterNode {
  /** 0-based position in the cluster, for names and logs. */
  index: number;
  app: AppProcess;
  dataDir: string;
  /** When (ms since epoch) this node logged that it now runs the sweeps, once per time it became leader. */
  leaderSince: number[];
  /** True once the test killed it (or it exited). */
  dead: boolean;
}

export interface ClusterOptions {
  size: number;
  databaseUrl: string;
  redisUrl: string;
  /** `HORDEKIT_CONFIG`: engine numbers by section. */
  config: Record<string, Record<string, number>>;
  /** Extra environment for every node. */
  env?: Record<string, string>;
}

export interface Cluster {
  nodes: ClusterNode[];
  /** The live node that most recently became leader, if any live node has. */
  leader(): ClusterNode | undefined;
  /** Waits for a live node other than `except` to log that it leads, after `since`; resolves with it and when. */
  waitForLeader(options: {
    except?: ClusterNode;
    since: number;
    timeoutMs: number;
  }): Promise<{ node: ClusterNode; at: number }>;
  /** SIGKILL, at once (no waiting): the caller decides what else happens in the same tick. */
  kill(node: ClusterNode): void;
  /** Stops every node (SIGTERM, then SIGKILL) and removes the data directories. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Notes each leader line in the node's output, looking every few milliseconds, with the time pino wrote in
 * it (the same machine's clock as the test's).
 */
function watchLeadership(node: ClusterNode): void {
  let from = 0;
  const look = () => {
    const output = node.app.output();
    for (let at = output.indexOf(LEADER_LINE, from); at >= 0; at = output.indexOf(LEADER_LINE, from)) {
      const end = output.indexOf('\n', at);
      if (end < 0) return; // the rest of the line has not arrived yet
      const line = output.slice(output.lastIndexOf('\n', at) + 1, end);
      let time = Date.now();
      try {
        time = (JSON.parse(line) as { time: number }).time;
      } catch {
        // not pino's line after all (interleaved output): keep the time it was seen
      }
      node.leaderSince.push(time);
      from = end;
    }
  };
  look();
  const timer = setInterval(look, 5);
  node.app.child.once('exit', () => {
    clearInterval(timer);
    look();
    node.dead = true;
  });
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const nodes: ClusterNode[] = [];
  const dirs: string[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(nodes.map((node) => stopApp(node.app.child, 'SIGTERM', 5_000)));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // One after the other would be slower; all at once is what a deployment does (migrations race).
    const started = await Promise.allSettled(
      Array.from({ length: options.size }, async (_, index) => {
        const dataDir = mkdtempSync(join(tmpdir(), `hordekit-node${index}-`));
        dirs.push(dataDir);
        const app = await startApp(dataDir, 30_000, {
          DATABASE_URL: options.databaseUrl,
          REDIS_URL: options.redisUrl,
          HORDEKIT_DEMO_WORKER: '0',
          HORDEKIT_LOG_LEVEL: 'info',
          HORDEKIT_CONFIG: JSON.stringify(options.config),
          ...options.env,
        });
        const node: ClusterNode = { index, app, dataDir, leaderSince: [], dead: false };
        watchLeadership(node);
        nodes[index] = node;
      }),
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (error) {
    await stop();
    throw error;
  }

  const leader = () => {
    let best: ClusterNode | undefined;
    for (const node of nodes) {
      const at = node.leaderSince.at(-1);
      if (node.dead || at === undefined) continue;
      if (!best || at > best.leaderSince.at(-1)!) best = node;
    }
    return best;
  };

  return {
    nodes,
    leader,
    async waitForLeader({ except, since, timeoutMs }) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const node of nodes) {
          if (node === except || node.dead) continue;
          const at = node.leaderSince.find((time) => time >= since);
          if (at !== undefined) return { node, at };
        }
        if (Date.now() > deadline) {
          const logs = nodes.map((node) => `--- node ${node.index}\n${node.app.output().slice(-4000)}`);
          throw new Error(`no node took over the sweeps within ${timeoutMs} ms\n${logs.join('\n')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    kill(node) {
      node.dead = true;
      node.app.child.kill('SIGKILL');
    },
    stop,
  };
}
