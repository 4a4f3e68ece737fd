/**
 * Kudos are stored and moved as integer hundredths ("centikudos"), so sums are exact and the ledger
 * balances to the last decimal. Prices are computed in kudos (floats) and converted once, here.
 */
export type Centikudos = number;

export function toCenti(kudos: number): Centikudos {
  return Math.round(kudos * 100);
}

export function fromCenti(centi: Centikudos): number {
  return centi / 100;
}

/** Rounds a kudos amount to two decimals, the precision of every price. */
export function roundKudos(kudos: number): number {
  return Math.round(kudos * 100) / 100;
}
