/** The order of BN254's scalar field: every signal and public input is an integer in [0, p). */
export const BN254_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Whether a decimal string (already checked to be digits) is an element of the field. */
export function inField(decimal: string): boolean {
  return BigInt(decimal) < BN254_SCALAR_FIELD;
}
