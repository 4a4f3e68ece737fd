/** The refusal: something the migration will not do (exit 2); nothing was written. */
export class Refusal extends Error {}
