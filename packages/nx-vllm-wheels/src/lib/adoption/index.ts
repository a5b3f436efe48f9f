export * from './templates';
export * from './release';
export * from './options';
export * from './family';
export * from './build-config';
