/**
 * Public surface of the webhook-signature module; the rest of clerk-sync imports from here only,
 * so the file layout inside verify/ can change freely.
 */

export { parseSigningSecrets, generateSigningSecret, type SigningKey } from './secrets.js';
export {
  verifyWebhook,
  type HeaderLookup,
  type VerifyFailureReason,
  type VerifyResult,
  type VerifyInput,
} from './verify.js';
export { signPayload, signedHeaders } from './sign.js';
