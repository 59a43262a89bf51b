/** The card the simulated provider always declines, for demos and tests. */
export const DECLINED_CARD = '4000000000000002';

/** What the simulated provider answers for a card. */
export function authorize(card: string): 'CHARGED' | 'DECLINED' {
  return card === DECLINED_CARD ? 'DECLINED' : 'CHARGED';
}
