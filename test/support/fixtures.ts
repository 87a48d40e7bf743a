/** Real response bodies of vLLM, TGI, Ollama, llama.cpp and OpenAI (see test/fixtures/backends/README.md). */
import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../fixtures/backends/', import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixture shapes differ per backend; tests index them freely
export function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, any>;
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}
