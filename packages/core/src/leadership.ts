/**
 * The leadership port: whether this node is the one that runs the sweeps (stale jobs, expiry, aging,
 * uptime). A single node is always the leader; several nodes on one database elect one through it
 * (`drivers/postgres/leader.ts`), so the sweeps run once per horde, not once per node.
 */
export interface Leadership {
  /** True while this node should run the sweeps. Cheap: read it on every tick. */
  isLeader(): boolean;
}

/** The leadership of a node that is alone (the embedded default). */
export const alwaysLeader: Leadership = { isLeader: () => true };
