// Whether the window is a phone's (at most 768 px wide), as a ref that follows resizes and rotation;
// the listener goes with the component that asked. Pages show cards instead of wide tables there.
import { onBeforeUnmount, ref } from 'vue'

export function useNarrow(query = '(max-width: 768px)') {
  const mq = window.matchMedia(query)
  const narrow = ref(mq.matches)
  const on = (e) => { narrow.value = e.matches }
  mq.addEventListener('change', on)
  onBeforeUnmount(() => mq.removeEventListener('change', on))
  return narrow
}
