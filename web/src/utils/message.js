// ElMessage with its style: pages import it from here, since on-demand styles are only added for
// components used in templates.
import { ElMessage } from 'element-plus/es/components/message/index.mjs'
import 'element-plus/es/components/message/style/css'

export { ElMessage }
