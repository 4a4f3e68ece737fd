// @hordekit/adapters: the chat plugin framework lands with issue 5. Chat code will reach the horde only
// through the `HordeClient` interface of @hordekit/core.
export {};
