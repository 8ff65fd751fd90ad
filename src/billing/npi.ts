/**
 * National Provider Identifier check digit. An NPI is 10 digits whose last is a Luhn (mod 10) check digit computed
 * over the 9 others prefixed with 80840 (the ISO 7812 issuer prefix for US health applications): CMS, "Requirements
 * for Constructing the NPI Check Digit" (NPI final rule, 45 CFR 162.406).
 */
const NPI_PREFIX = '80840';

/** Luhn check: from the rightmost digit, double every second digit (subtracting 9 when over 9); the sum ends in 0. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function isValidNpi(npi: string): boolean {
  return /^\d{10}$/.test(npi) && luhnValid(NPI_PREFIX + npi);
}

/** The check digit a 9-digit NPI stem needs (for building test data and explaining a failure). */
export function npiCheckDigit(stem: string): number {
  if (!/^\d{9}$/.test(stem)) throw new RangeError(`an NPI stem is 9 digits, got ${stem}`);
  for (let d = 0; d <= 9; d++) if (luhnValid(NPI_PREFIX + stem + d)) return d;
  throw new Error('unreachable: one Luhn digit always fits');
}
