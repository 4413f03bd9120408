/**
 * Wraps a bridge so that every action appears as a Playwright `test.step` titled with the call and
 * its arguments — text typed with `{ secret: true }` and clipboard text are masked, never logged.
 */
import type { VNCAgentBridge } from '../bridge/bridge.js';
import { ScreenLocator } from '../bridge/locators/index.js';

/** The asynchronous actions of each part that become steps; getters and synchronous reads do not. */
const ACTIONS = {
  mouse: ['move', 'click', 'leftClick', 'rightClick', 'middleClick', 'doubleClick', 'down', 'up', 'drag', 'clickImage'],
  keyboard: ['type', 'press', 'down', 'up', 'hold'],
  scroll: ['up', 'down', 'left', 'right', 'scroll'],
  clipboard: ['setText', 'getText', 'clear'],
  screen: ['screenshot', 'waitForChange', 'waitForStable', 'waitForImage', 'refresh'],
} as const;

type Part = keyof typeof ACTIONS;

export type StepRunner = <T>(title: string, body: () => Promise<T>) => Promise<T>;

const MAX_ARGUMENT_LENGTH = 60;

function isSecretCall(part: Part, method: string, args: unknown[]): boolean {
  if (part === 'clipboard' && method === 'setText') return true;
  const last = args[args.length - 1];
  return typeof last === 'object' && last !== null && (last as { secret?: unknown }).secret === true;
}

/** A short, printable form of one argument (functions and images are named, not dumped). */
export function describeArgument(value: unknown): string {
  if (typeof value === 'function') return 'ƒ';
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (typeof value === 'object' && value !== null && 'data' in value && 'width' in value && 'height' in value) {
    return `<image ${String((value as { width: unknown }).width)}x${String((value as { height: unknown }).height)}>`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_ARGUMENT_LENGTH ? `${text.slice(0, MAX_ARGUMENT_LENGTH - 1)}…` : text;
}

/** The step title for a call, e.g. `keyboard.type("hello")`, `keyboard.type(***)`. */
export function stepTitle(part: Part, method: string, args: unknown[]): string {
  if (isSecretCall(part, method, args)) return `${part}.${method}(***)`;
  return `${part}.${method}(${args.map(describeArgument).join(', ')})`;
}

function wrapPart<T extends object>(part: Part, target: T, runStep: StepRunner, afterStep: (title: string) => Promise<void>): T {
  const actions = new Set<string>(ACTIONS[part]);
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof property !== 'string' || !actions.has(property) || typeof value !== 'function') {
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
      }
      return (...args: unknown[]) => {
        const title = stepTitle(part, property, args);
        return runStep(title, async () => {
          const result = await (value as (...args: unknown[]) => Promise<unknown>).apply(object, args);
          await afterStep(title);
          return result;
        });
      };
    },
  });
}

/** Locator methods that run as one step each (what they do inside — pointer, keys — is not a step of its own). */
const LOCATOR_STEPS = new Set(['click', 'dblclick', 'hover', 'fill', 'press', 'waitFor', 'count', 'boundingBox']);
/** Locator methods that return locators, which must be instrumented too. */
const LOCATOR_REFINERS = new Set(['nth', 'first', 'last', 'within']);
const RAW = Symbol('raw locator');

/** The locator behind an instrumented one (matchers use it, so their polling is not a step per look). */
export function rawLocator<T>(value: T): T {
  return value instanceof ScreenLocator ? (((value as unknown as Record<symbol, unknown>)[RAW] as T | undefined) ?? value) : value;
}

/** E.g. `getByText("Save").click()`, `getByText("Password").fill(***)`. */
export function locatorStepTitle(locator: ScreenLocator, method: string, args: unknown[]): string {
  const last = args[args.length - 1];
  const secret = method === 'fill' && typeof last === 'object' && last !== null && (last as { secret?: unknown }).secret === true;
  return `${String(locator)}.${method}(${secret ? '***' : args.map(describeArgument).join(', ')})`;
}

function wrapLocator(locator: ScreenLocator, runStep: StepRunner, afterStep: (title: string) => Promise<void>): ScreenLocator {
  return new Proxy(locator, {
    get(object, property, receiver) {
      if (property === RAW) return object;
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (LOCATOR_REFINERS.has(property)) return (...args: unknown[]) => wrapLocator(method.apply(object, args) as ScreenLocator, runStep, afterStep);
      if (property === 'all') {
        return async () => ((await method.apply(object, [])) as ScreenLocator[]).map((each) => wrapLocator(each, runStep, afterStep));
      }
      if (!LOCATOR_STEPS.has(property)) return method.bind(object);
      return (...args: unknown[]) => {
        const title = locatorStepTitle(object, property, args);
        return runStep(title, async () => {
          const result = await method.apply(object, args);
          if (property !== 'count' && property !== 'boundingBox') await afterStep(title);
          return result;
        });
      };
    },
  });
}

/**
 * The same bridge, with each action of `mouse`, `keyboard`, `scroll`, `clipboard` and `screen`, and
 * each locator action (`vnc.getByText("Save").click()`: one step), run through `runStep`; `afterStep` runs inside the step once the action succeeded (frames).
 */
export function instrumentBridge(bridge: VNCAgentBridge, runStep: StepRunner, afterStep: (title: string) => Promise<void>): VNCAgentBridge {
  const parts = new Map<PropertyKey, object>();
  for (const part of Object.keys(ACTIONS) as Part[]) parts.set(part, wrapPart(part, bridge[part], runStep, afterStep));
  return new Proxy(bridge, {
    get(object, property, receiver) {
      const part = parts.get(property);
      if (part) return part;
      const value = Reflect.get(object, property, receiver) as unknown;
      if (property === 'getByText' || property === 'getByImage') {
        return (...args: unknown[]) => wrapLocator((value as (...args: unknown[]) => ScreenLocator).apply(object, args), runStep, afterStep);
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}
