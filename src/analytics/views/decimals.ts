/**
 * The written precision of decimals, for views: FHIRPath's lowBoundary()/highBoundary() depend on it
 * ("1.0".lowBoundary() is 0.95, "1".lowBoundary() is 0.5). The parsing and noting is the FHIR layer's
 * (src/fhir/json-decimals.ts), which keeps it for every resource written and read; only views that call a boundary
 * function ask for it (compile.ts).
 */
export { decimalText, parseKeepingDecimals } from '../../fhir/json-decimals.js';
