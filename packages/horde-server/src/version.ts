/** The server's version (`/status/heartbeat`, `Horde-Node`, serviceinfo, the OpenAPI document). */
export const SERVER_VERSION = '0.1.0';
