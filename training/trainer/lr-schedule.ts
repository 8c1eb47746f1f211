// SPDX-License-Identifier: MIT
/**
 * @file The learning rate of step t (1-based) of a run of T steps. The rate is a graph input, so a
 * schedule never rebuilds the graph. `constant`: lr. `cosine`: half a cosine from lr down to
 * lr·final at step T, lr_t = lr·(final + (1 − final)·(1 + cos(π·(t − 1)/(T − 1)))/2).
 */
import type { RecipeConfig } from '../config.ts';

export function learningRate(lr: number, recipe: Pick<RecipeConfig, 'lrSchedule' | 'lrFinal'>, step: number, totalSteps: number): number {
  if (recipe.lrSchedule === 'constant' || totalSteps <= 1) return lr;
  const progress = Math.min(1, Math.max(0, (step - 1) / (totalSteps - 1)));
  return lr * (recipe.lrFinal + (1 - recipe.lrFinal) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
