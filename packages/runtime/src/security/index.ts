// @carotene/runtime/security: what Carotene's other packages use of this layer.
export { certsDir, tlsFiles } from './cert-paths.ts';
export { ensureCertificates, rotateCertificates } from './cert-store.ts';
export { type CredentialSource, type TlsFiles, watchCredentials } from './credentials.ts';
export { GATEWAY_IDENTITY, SUPERVISOR_IDENTITY } from './identity.ts';
