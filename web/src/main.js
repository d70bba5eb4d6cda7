// Entry: Vue app with pinia, the router and vue-i18n. Element Plus components and their styles are
// imported on demand by the build; only the base style is global.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router, toLogin } from './router'
import { i18n } from './i18n'
import { setUnauthorizedHandler } from './api/http'
import 'element-plus/theme-chalk/base.css'
import './styles.css'

setUnauthorizedHandler(toLogin)
const app = createApp(App)
app.use(createPinia())
app.use(i18n)
app.use(router)
app.mount('#app')
