export { proxyAgentsFor, s3RequestHandler } from './agents';
export { describeProxy, proxiedFetch, proxyFailureReason, type ProxiedFetch } from './fetch';
export { bypassesProxy, chooseProxy, displayProxy, proxyAuthorization, proxyFor, type ProxyChoice, type ProxyEnv } from './proxy';
