/**
 * A contact's mobile operator code, as dispatches filter by it
 * (`operator_codes`): derived from its WhatsApp number (src/contacts/operator.ts)
 * or set explicitly, such as `RU-Beeline` or an MCC-MNC pair (`250-01`);
 * codes are compared exactly.
 */

/** What an operator code may be: a letter or digit, then up to 63 of letters, digits and `. _ & + -`. */
export const OPERATOR_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._&+-]{0,63}$'
