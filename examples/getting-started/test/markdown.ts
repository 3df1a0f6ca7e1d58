/** Code blocks of a Markdown file, as the guide and the READMEs write them. */

/** One fenced code block. */
export interface Fence {
  /** The info string's language (`ts`, `text`, `sh`...); empty when none. */
  lang: string
  /** The block's text, with its final newline. */
  body: string
}

/** Every fenced code block of `markdown` (``` fences at the start of a line), in order. */
export function fences(markdown: string): Fence[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, body]) => ({
    lang: lang!,
    body: body!,
  }))
}
