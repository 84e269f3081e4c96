import type { SerializedDag } from './model.ts';
import type { DagProblem, SerializeDefaults } from './serialize.ts';

/** A task whose declaration site (file:line) is wanted. */
export interface TaskSiteRequest {
  dagId: string;
  taskId: string;
}

export interface ParseRequest {
  file: string;
  defaults: SerializeDefaults;
  /** Also answer where these tasks are declared: formatting a site costs ~0.25 ms, so only on request. */
  sitesOf?: TaskSiteRequest[];
}

export interface ParseResult {
  file: string;
  dags: SerializedDag[];
  problems: DagProblem[];
  /** The asked-for sites (`sitesOf`), `at` null when unknown. */
  sites?: (TaskSiteRequest & { at: string | null })[];
}
