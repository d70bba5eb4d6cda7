// vue-i18n with zh-CN as the default; English is loaded with it (both are small). The Element Plus
// locale follows the app's language (see App.vue).
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'

export const LANGS = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
]

function initial() {
  const saved = localStorage.getItem('nx.lang')
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

export function setLanguage(code) {
  if (code !== 'en' && code !== 'zh-CN') return
  i18n.global.locale.value = code
  localStorage.setItem('nx.lang', code)
  document.documentElement.lang = code
}
