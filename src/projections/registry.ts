/** Which event types clerk-sync projects, and into which table: built from the entity modules' declarations. */
import type { EventAction, Projection } from './projection.js';

export interface Route {
  projection: Projection;
  action: EventAction;
}

export class ProjectionRegistry {
  readonly projections: readonly Projection[];
  readonly #routes = new Map<string, Route>();

  constructor(projections: readonly Projection[]) {
    this.projections = projections;
    for (const projection of projections) {
      for (const [type, action] of Object.entries(projection.events)) {
        if (this.#routes.has(type)) throw new Error(`Event type ${type} is projected twice (${this.#routes.get(type)!.projection.table}, ${projection.table})`);
        this.#routes.set(type, { projection, action });
      }
    }
  }

  route(type: string): Route | undefined {
    return this.#routes.get(type);
  }

  get types(): string[] {
    return [...this.#routes.keys()];
  }
}
