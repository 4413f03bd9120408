/**
 * Finding a known query among words read by OCR: Playwright's text semantics (substring,
 * case-insensitive, whitespace normalised; exact; RegExp over word runs), multi-word queries across
 * neighbouring words of one line, tolerance of OCR confusions only when nothing matches as read,
 * and the closest words for error messages.
 */
import { expect, test } from '@playwright/test';
import { closestText, findText, VNCInputError, type OcrWord } from '../../src/index.js';

/** Words laid out like a screen: each line is a string, words 10 px per character plus a 10 px space. */
function screen(...lines: string[]): OcrWord[] {
  const words: OcrWord[] = [];
  lines.forEach((line, index) => {
    let x = 100;
    for (const text of line.split(' ')) {
      if (text) words.push({ text, line: index, confidence: 90, box: { x, y: 50 + index * 30, width: text.length * 10, height: 14 } });
      x += (text.length + 1) * 10;
    }
  });
  return words;
}

const texts = (matches: { text: string }[]) => matches.map((m) => m.text);

test.describe('findText with a string', () => {
  test('is a case-insensitive substring of a word, with the word part as the box', () => {
    const words = screen('Open Save As Close');
    const matches = findText(words, 'save');
    expect(texts(matches)).toEqual(['Save']);
    expect(matches[0].box).toEqual({ x: 150, y: 50, width: 40, height: 14 });
    const part = findText(words, 'los');
    expect(part).toHaveLength(1);
    // "Close" is x 230..280; "los" is its characters 1..4.
    expect(part[0].box).toEqual({ x: 240, y: 50, width: 30, height: 14 });
  });

  test('joins neighbouring words of one line for multi-word queries, whitespace normalised', () => {
    const words = screen('Do you want to save the changes?', 'Discard Save');
    const matches = findText(words, '  want   to SAVE ');
    expect(texts(matches)).toEqual(['want to save']);
    expect(matches[0].box).toEqual({ x: 170, y: 50, width: 120, height: 14 });
    expect(matches[0].words.map((w) => w.text)).toEqual(['want', 'to', 'save']);
  });

  test('does not join words of different lines', () => {
    const words = screen('Discard', 'Save');
    expect(findText(words, 'Discard Save')).toEqual([]);
  });

  test('finds every occurrence, top to bottom, left to right', () => {
    const words = screen('Save Cancel Save', 'Save');
    expect(findText(words, 'Save').map((m) => [m.box.x, m.box.y])).toEqual([[100, 50], [220, 50], [100, 80]]);
  });

  test('exact: case-sensitive whole words only', () => {
    const words = screen('Save As', 'save', 'Saved');
    expect(findText(words, 'Save', { exact: true }).map((m) => m.box.y)).toEqual([50]);
    expect(findText(words, 'Save As', { exact: true })).toHaveLength(1);
    expect(findText(words, 'save as', { exact: true })).toEqual([]);
    expect(findText(words, 'Sav', { exact: true })).toEqual([]);
  });

  test('tolerates a dropped or added space only when nothing matches as read', () => {
    expect(texts(findText(screen('SaveAs'), 'Save As'))).toEqual(['SaveAs']);
    expect(texts(findText(screen('Save As'), 'SaveAs'))).toEqual(['Save As']);
    expect(texts(findText(screen('SaveAs', 'Save As'), 'Save As'))).toEqual(['Save As']);
    expect(texts(findText(screen('SaveAs'), 'Save As', { exact: true }))).toEqual(['SaveAs']);
  });

  test('tolerates l/I/1, O/0 and rn/m only when nothing matches as read', () => {
    expect(texts(findText(screen('CIose'), 'Close'))).toEqual(['CIose']);
    expect(texts(findText(screen('C1ose'), 'Close'))).toEqual(['C1ose']);
    expect(texts(findText(screen('L0G'), 'log'))).toEqual(['L0G']);
    expect(texts(findText(screen('modified'), 'rnodified'))).toEqual(['modified']);
    expect(texts(findText(screen('rnodified'), 'modified'))).toEqual(['rnodified']);
    // The real word wins over a look-alike.
    expect(texts(findText(screen('CIose', 'Close'), 'Close'))).toEqual(['Close']);
    // Never for exact, and never across different letters.
    expect(findText(screen('CIose'), 'Close', { exact: true })).toEqual([]);
    expect(findText(screen('Clone', 'Cloud'), 'Close')).toEqual([]);
  });

  test('a bad query is a VNCInputError saying what to pass', () => {
    expect(() => findText(screen('x'), '  ')).toThrow(VNCInputError);
    expect(() => findText(screen('x'), 42 as unknown as string)).toThrow(/non-empty string or a RegExp, got 42/);
  });
});

test.describe('findText with a RegExp', () => {
  test('matches the shortest runs of words of a line', () => {
    const words = screen('Save As Save', 'Saved 12 files');
    expect(texts(findText(words, /Save/))).toEqual(['Save', 'Save', 'Saved']);
    expect(texts(findText(words, /^Save$/))).toEqual(['Save', 'Save']);
    expect(texts(findText(words, /Save As/))).toEqual(['Save As']);
    expect(texts(findText(words, /\d+ files/))).toEqual(['12 files']);
  });

  test('follows the RegExp flags, and a global RegExp gives the same answer twice', () => {
    const words = screen('Save save');
    expect(texts(findText(words, /save/))).toEqual(['save']);
    expect(texts(findText(words, /save/i))).toEqual(['Save', 'save']);
    const global = /save/gi;
    expect(texts(findText(words, global))).toEqual(texts(findText(words, global)));
  });
});

test.describe('closestText', () => {
  test('lists the closest words by edit distance, best first, with boxes', () => {
    const words = screen('Open Save Close', 'Settings');
    const closest = closestText(words, 'Sve', 2);
    expect(texts(closest)).toEqual(['Save', 'Open']);
    expect(closest[0].box).toEqual({ x: 150, y: 50, width: 40, height: 14 });
  });

  test('considers runs of as many words as the query', () => {
    expect(closestText(screen('Do you want to save'), 'want too save', 1)[0].text).toBe('want to save');
  });

  test('works with a RegExp (its literal characters) and with nothing read', () => {
    expect(closestText(screen('Discard Apply'), /^Aply$/, 1)[0].text).toBe('Apply');
    expect(closestText([], 'Save')).toEqual([]);
  });
});
