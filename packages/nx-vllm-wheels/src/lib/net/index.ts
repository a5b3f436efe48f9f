export { proxyAgentsFor } from './agents';
export { s3ClientConfig, type S3ClientTarget } from './s3';
export { describeProxy, proxiedFetch, proxyFailureReason, type ProxiedFetch } from './fetch';
export { bypassesProxy, chooseProxy, displayProxy, proxyAuthorization, proxyFor, type ProxyChoice, type ProxyEnv } from './proxy';
export { basicAuthorization, splitUrlCredentials, withoutCredentials, type BasicCredentials } from './credentials';
