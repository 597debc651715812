// `cmesh unpause [svc...]`: thaw paused replicas; the mesh routes to them again (shares its body with pause.ts).

export { registerUnpause as register } from './pause.ts';
