import type { SerializedDag } from './model.ts';
import type { DagProblem, SerializeDefaults } from './serialize.ts';

export interface ParseRequest {
  file: string;
  defaults: SerializeDefaults;
}

export interface ParseResult {
  file: string;
  dags: SerializedDag[];
  problems: DagProblem[];
}
