// Types for the three undici files the engine loads on their own (see http.ts): the same classes and
// function the package's index re-exports, typed by its own declarations.
declare module 'undici/lib/dispatcher/agent' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export = AgentClass;
}

declare module 'undici/lib/core/errors' {
  import type { errors } from 'undici';
  const undiciErrors: typeof errors;
  export = undiciErrors;
}

declare module 'undici/lib/api/api-request' {
  import type { Dispatcher } from 'undici';
  const request: Dispatcher['request'];
  export = request;
}
