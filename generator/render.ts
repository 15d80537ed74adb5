/**
 * Handlebars, set up for P4: no HTML escaping, strict (a name the view model lacks is an error,
 * not an empty string), partials from templates/partials/, and a `join` helper for field lists.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { GenerateError } from './errors.ts';

export const TEMPLATES_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

export type ProgramRole = 'gateway' | 'host';

function environment(templatesDir: string): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('join', (items: unknown, separator: unknown) => {
    if (!Array.isArray(items) || typeof separator !== 'string') {
      throw new GenerateError('GENERATE_TEMPLATE', 'join expects a list and a separator');
    }
    return items.join(separator);
  });
  const partialsDir = join(templatesDir, 'partials');
  for (const file of readdirSync(partialsDir).sort()) {
    if (!file.endsWith('.p4.hbs')) continue;
    hb.registerPartial(basename(file, '.p4.hbs'), readFileSync(join(partialsDir, file), 'utf8'));
  }
  return hb;
}

/** Renders `templates/<role>.p4.hbs` with the view model. */
export function renderProgram(role: ProgramRole, viewModel: object, templatesDir = TEMPLATES_DIR): string {
  const hb = environment(templatesDir);
  const file = join(templatesDir, `${role}.p4.hbs`);
  const template = hb.compile(readFileSync(file, 'utf8'), { noEscape: true, strict: true });
  try {
    return template(viewModel);
  } catch (err) {
    throw new GenerateError('GENERATE_TEMPLATE', `rendering ${file}: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
}
