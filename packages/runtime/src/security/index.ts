// @carotene/runtime/security: what Carotene's other packages use of this layer.
export { certsDir, tlsFiles } from './cert-paths.ts';
export { hostNames, type HostNames } from './certificate-authority.ts';
export { certificateNames, ensureCertificates, type EnsureOptions, rotateCertificates } from './cert-store.ts';
export { type CredentialSource, type TlsFiles, watchCredentials } from './credentials.ts';
export { GATEWAY_IDENTITY, SUPERVISOR_IDENTITY } from './identity.ts';
