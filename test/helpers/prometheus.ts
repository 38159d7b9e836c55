/**
 * A strict parser of the Prometheus text exposition format (0.0.4), written from the format's
 * description rather than taken from prom-client, so that a malformed /metrics answer fails here.
 * Every line must be empty, a HELP, a TYPE, or a sample of the family its TYPE announced before it.
 */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// NaN and Inf in any case, as Prometheus reads them (Go's ParseFloat): prom-client writes `Nan`.
const VALUE = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[Nn][Aa][Nn]|[+-][Ii][Nn][Ff])';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (${VALUE})(?: -?\\d+)?$`);
const LABEL_ONE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

/** Parses the whole text; throws naming the first line that does not follow the format. */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  let current: { name: string; family: Family } | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    const fail = (why: string) => new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    let m: RegExpExecArray | null;
    if (line === '') return; // the format allows empty lines (prom-client puts one between families)
    if ((m = HELP_LINE.exec(line))) {
      if (helps.has(m[1]!)) throw fail('second HELP');
      helps.set(m[1]!, m[2]!);
    } else if ((m = TYPE_LINE.exec(line))) {
      if (families.has(m[1]!)) throw fail('second TYPE');
      const family: Family = { type: m[2]!, help: helps.get(m[1]!) ?? '', samples: [] };
      families.set(m[1]!, family);
      current = { name: m[1]!, family };
    } else if ((m = SAMPLE_LINE.exec(line))) {
      if (!current) throw fail('sample before any TYPE');
      const suffixes =
        current.family.type === 'histogram'
          ? ['_bucket', '_sum', '_count']
          : current.family.type === 'summary'
            ? ['', '_sum', '_count']
            : [''];
      if (!suffixes.some((s) => m![1] === current!.name + s)) throw fail(`sample outside its family ${current.name}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (m[2] ?? '').matchAll(LABEL_ONE)) {
        if (key! in labels) throw fail(`label ${key} twice`);
        labels[key!] = value!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
      current.family.samples.push({
        name: m[1]!,
        labels,
        value: /^nan$/i.test(m[3]!) ? NaN : Number(m[3]!.replace(/inf$/i, 'Infinity')),
      });
    } else {
      throw fail('not HELP, TYPE or a sample');
    }
  });
  for (const [name, family] of families) {
    if (!helps.has(name)) throw new Error(`${name} has no HELP`);
    if (family.type === 'histogram') checkHistogram(name, family);
  }
  return families;
}

/** Buckets cumulative and ending at +Inf = _count, per label set. */
function checkHistogram(name: string, family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of family.samples.filter((s) => s.name === `${name}_bucket`)) {
    const { le: _, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (
        Number(buckets[i]!.labels.le!.replace('Inf', 'Infinity')) <=
        Number(buckets[i - 1]!.labels.le!.replace('Inf', 'Infinity'))
      )
        throw new Error(`${name}${key}: le not increasing`);
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${name}${key}: buckets not cumulative`);
    }
    const inf = buckets.at(-1)!;
    const count = family.samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key);
    if (inf.labels.le !== '+Inf' || !count || count.value !== inf.value)
      throw new Error(`${name}${key}: +Inf bucket does not match _count`);
  }
}

/** The value of one sample (0 when absent is not assumed: throws). */
export function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
  const found = family?.samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  if (!found) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return found.value;
}
