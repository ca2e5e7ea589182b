//! Relay connections over any listed type, and the two ways to resolve one:
//! a top-level list, or the rows related to a parent (batched by the loaders).

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::connection::{EmptyFields, PageInfo};
use async_graphql::parser::types::{Field, Selection};
use async_graphql::{
    Context, ContextSelectionSet, Object, OutputType, Positioned, ServerResult, TypeName, Value,
};
use futures_util::future::BoxFuture;
use sea_orm::ModelTrait;

use crate::engine::lean::{Lean, LeanList, Leaves};
use crate::engine::listing::{ListArgs, Listed};
use crate::engine::loaders::{Count, EdgeData, Many, Page, Siblings, ToMany, count_all, list_page};
use crate::engine::pagination::{Direction, SortValue, encode_cursor};
use crate::engine::request::{loaders, reader, request_db};
use crate::error::{ApiError, ApiResult};

/// A page of a list, with its cursors and the size of the whole list, resolved
/// leanly (see [`Lean`]).
pub type Connection<T, E> = Lean<ConnectionPage<T, E>>;

/// A page of a list, with its cursors and the size of the whole list.
pub struct ConnectionPage<T: Listed, E: EdgeData> {
    /// The page's rows in the list's order, each with its edge data.
    rows: Vec<(T, E)>,
    args: Arc<ListArgs<T>>,
    has_previous_page: bool,
    has_next_page: bool,
    total: Total<T>,
}

/// One item of a page and where it stands in the list: a view of one of the page's
/// rows, made as `edges` answers (the rows stay as the statement read them).
pub struct Edge<'a, T: Listed, E: EdgeData> {
    node: &'a T,
    data: &'a E,
    args: &'a ListArgs<T>,
}

impl<T: Listed, E: EdgeData> Clone for Edge<'_, T, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Listed, E: EdgeData> Copy for Edge<'_, T, E> {}

/// How a connection counts its whole list, when `totalCount` is asked for: kept
/// without an allocation per page, since most pages are counted by their statement
/// or not asked.
enum Total<T: Listed> {
    /// Counted by the page's own statement.
    Counted(i64),
    /// Every `T` that matches the arguments' filter, counted by a statement of its own.
    TopLevel,
    /// The rows related to `parent`, counted with its siblings' by `count`.
    Related { parent: i32, count: CountRelated<T> },
}

/// Counts the rows related to a parent through one relation (see [`count_related`]).
type CountRelated<T> =
    for<'a, 'b> fn(&'a Context<'b>, i32, Arc<ListArgs<T>>) -> BoxFuture<'a, ApiResult<i64>>;

/// A page of the list of every `T` that matches the arguments' filter.
///
/// Boxed, like [`related`]: async-graphql sizes every field's future by the largest
/// field of its type, and moves each one; a small future keeps scalar fields cheap.
pub async fn top_level<T: Listed>(
    ctx: &Context<'_>,
    args: Arc<ListArgs<T>>,
) -> ApiResult<Connection<T, EmptyFields>> {
    Box::pin(top_level_page(ctx, args)).await
}

async fn top_level_page<T: Listed>(
    ctx: &Context<'_>,
    args: Arc<ListArgs<T>>,
) -> ApiResult<Connection<T, EmptyFields>> {
    let page = if args.rows_wanted {
        list_page(&request_db(ctx)?, reader(ctx)?, &args).await?
    } else {
        Page::default()
    };
    Ok(Lean(ConnectionPage::new(page, args, Total::TopLevel)))
}

/// A page of the rows related to `parent` through `R`, batched with its siblings.
pub async fn related<R: ToMany>(
    ctx: &Context<'_>,
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
) -> ApiResult<Connection<R::Target, R::Edge>> {
    Box::pin(related_page::<R>(ctx, parent, args)).await
}

/// The answer of the connection field `ctx` resolves, of the relation `R` of
/// `parent`, with arguments worked out already (see [`Leaves::connection`]): as
/// the field's generated resolver answers.
pub async fn answer_related<R: ToMany>(
    ctx: &Context<'_>,
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
) -> ServerResult<Option<Value>> {
    let connection = related::<R>(ctx, parent, args).await.map_err(|err| {
        ctx.set_error_path(async_graphql::Error::from(err).into_server_error(ctx.item.pos))
    })?;
    let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
    OutputType::resolve(&connection, &selection, ctx.item)
        .await
        .map(Some)
}

async fn related_page<R: ToMany>(
    ctx: &Context<'_>,
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
) -> ApiResult<Connection<R::Target, R::Edge>> {
    let page = if args.rows_wanted {
        let loaders = loaders(ctx)?;
        // Folded into the statement that read the parent, or loaded with its siblings.
        let page = match loaders.loader().primed.page::<R>(parent, &args) {
            Some(page) => Some(page),
            None => {
                let key = Many::<R> {
                    parent,
                    args: args.clone(),
                };
                loaders.load_one(key).await?
            }
        };
        match page {
            // A loaded page's batch has let go of it by now, so its rows are taken
            // as they are; a folded page stays primed for a second lookup of the
            // same parent, so its rows are cloned.
            Some(page) => Arc::try_unwrap(page).unwrap_or_else(|page| (*page).clone()),
            None => Page::default(),
        }
    } else {
        Page::default()
    };
    // Counted by the page's statement, or else by a statement of its own if asked.
    let total = match page.total {
        Some(counted) => Total::Counted(counted),
        None => Total::Related {
            parent,
            count: count_related::<R>,
        },
    };
    Ok(Lean(ConnectionPage::new(page, args, total)))
}

impl<T: Listed, E: EdgeData> ConnectionPage<T, E> {
    fn new(page: Page<T, E>, args: Arc<ListArgs<T>>, total: Total<T>) -> Self {
        let mut rows = page.rows;
        let resumed = args.window.cursor.is_some();
        let (has_previous_page, has_next_page) = match args.window.direction {
            Direction::Forward => (resumed, page.has_more),
            Direction::Backward => {
                rows.reverse();
                (page.has_more, resumed)
            }
        };
        Self {
            rows,
            args,
            has_previous_page,
            has_next_page,
            total,
        }
    }

    fn edge<'a>(&'a self, (node, data): &'a (T, E)) -> Edge<'a, T, E> {
        Edge {
            node,
            data,
            args: &self.args,
        }
    }
}

/// A page of a list: its edges (or just nodes), where it stands, and the list's size.
#[Object(name_type)]
impl<T: Listed, E: EdgeData> ConnectionPage<T, E> {
    /// The items of this page, each with its cursor.
    async fn edges(&self, ctx: &Context<'_>) -> LeanList<Edge<'_, T, E>> {
        let edges = ctx.with_selection_set(&ctx.item.node.selection_set);
        if let Some(items) = plain_fields(&edges) {
            for node in items.filter(|field| field.node.name.node == "node") {
                let node = edges.with_field(node);
                let rows = node.with_selection_set(&node.item.node.selection_set);
                self.load_pages(&rows).await;
            }
        }
        LeanList(self.rows.iter().map(|row| self.edge(row)).collect())
    }

    /// The items of this page, without cursors.
    async fn nodes(&self, ctx: &Context<'_>) -> LeanList<&T> {
        self.load_pages(&ctx.with_selection_set(&ctx.item.node.selection_set))
            .await;
        LeanList(self.rows.iter().map(|(node, _)| node).collect())
    }

    /// Where this page stands in the list, and the cursors to page on.
    async fn page_info(&self) -> ApiResult<PageInfo> {
        let cursor = |row: Option<&(T, E)>| row.map(|row| self.edge(row).cursor_string());
        Ok(PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: cursor(self.rows.first()).transpose()?,
            end_cursor: cursor(self.rows.last()).transpose()?,
        })
    }

    /// How many items the whole list holds with this filter, whatever the page.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let total = match &self.total {
            Total::Counted(counted) => *counted,
            Total::TopLevel => count_all(&request_db(ctx)?, reader(ctx)?, &self.args).await?,
            Total::Related { parent, count } => count(ctx, *parent, self.args.clone()).await?,
        };
        i32::try_from(total).map_err(ApiError::internal)
    }
}

impl<T: Listed, E: EdgeData> ConnectionPage<T, E> {
    /// Before the page's rows resolve `rows` (their selection): the pages of each
    /// connection field it asks for, loaded for every row of the page at once (see
    /// [`Siblings`]), where each row's field takes its page. Only for a selection of
    /// fields without directives: a field that a fragment selects too would load
    /// its pages again.
    async fn load_pages(&self, rows: &ContextSelectionSet<'_>) {
        let Some(items) = plain_fields(rows) else {
            return;
        };
        // Only the connection fields: most lists' rows select none (a comment's
        // `id` and `body`), and then the list costs nothing more.
        let connection = |field: &Positioned<Field>| {
            let name = field.node.name.node.as_str();
            T::TO_MANY.iter().any(|many| many.field() == name)
        };
        let mut fields = Vec::new();
        for field in items.filter(|field| connection(field)) {
            fields.push(rows.with_field(field));
        }
        if self.rows.is_empty() || fields.is_empty() {
            return;
        }
        let parents: Arc<[i32]> = self.rows.iter().map(|(node, _)| node.id()).collect();
        let mut loading = Vec::new();
        for field in &fields {
            loading.extend(T::load_pages(field, &parents));
        }
        futures_util::future::join_all(loading).await;
    }
}

/// The fields of a selection made of fields alone, without directives.
fn plain_fields<'a>(
    selection: &ContextSelectionSet<'a>,
) -> Option<impl Iterator<Item = &'a Positioned<Field>> + use<'a>> {
    let items = &selection.item.node.items;
    let field = |item: &'a Positioned<Selection>| match &item.node {
        Selection::Field(field) => Some(field),
        _ => None,
    };
    let plain = |item| field(item).is_some_and(|field| field.node.directives.is_empty());
    items
        .iter()
        .all(plain)
        .then(|| items.iter().filter_map(field))
}

/// The page of each of `parents` (the rows of one list) that the connection field
/// `ctx` resolves asks for, of the relation `R`: loaded together with the other
/// lists' and primed, before the rows resolve. Nothing when its arguments do not
/// parse or validate, or the load fails: each row's field then reports why.
pub fn load_siblings<'a, R: ToMany>(
    ctx: &'a Context<'a>,
    parents: &Arc<[i32]>,
) -> BoxFuture<'a, ()> {
    let parents = parents.clone();
    Box::pin(async move {
        let Some(args) = ListArgs::<R::Target>::of_field(ctx) else {
            return;
        };
        if let (true, Ok(loaders)) = (args.rows_wanted, loaders(ctx)) {
            let _ = loaders.load_one(Siblings::<R> { parents, args }).await;
        }
    })
}

impl<T: Listed, E: EdgeData> Leaves for ConnectionPage<T, E> {}

impl<T: Listed, E: EdgeData> TypeName for ConnectionPage<T, E> {
    fn type_name() -> Cow<'static, str> {
        format!("{}{}Connection", E::PREFIX, T::NAME).into()
    }
}

impl<T: Listed, E: EdgeData> Edge<'_, T, E> {
    fn cursor_string(&self) -> ApiResult<String> {
        let ordering = &self.args.window.ordering;
        let key = ordering
            .terms
            .iter()
            .map(|(field, _)| SortValue::from_value(self.node.model().get(T::column(*field))))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(encode_cursor(T::NAME, ordering, &key))
    }
}

/// An item of a page, with the cursor to page on from it.
#[Object(name_type)]
impl<T: Listed, E: EdgeData> Edge<'_, T, E> {
    /// An opaque cursor: give it as `after` (or `before`) to page on from this item.
    async fn cursor(&self) -> ApiResult<String> {
        self.cursor_string()
    }

    /// The item.
    async fn node(&self) -> Lean<&T> {
        Lean(self.node)
    }

    #[graphql(flatten)]
    async fn data(&self) -> &E {
        self.data
    }
}

impl<T: Listed, E: EdgeData> Leaves for Edge<'_, T, E> {}

impl<T: Listed, E: EdgeData> TypeName for Edge<'_, T, E> {
    fn type_name() -> Cow<'static, str> {
        format!("{}{}Edge", E::PREFIX, T::NAME).into()
    }
}

/// Counts the rows related to `parent` through `R`, batched with its siblings'
/// counts: a [`CountRelated`].
fn count_related<'a, R: ToMany>(
    ctx: &'a Context<'_>,
    parent: i32,
    args: Arc<ListArgs<R::Target>>,
) -> BoxFuture<'a, ApiResult<i64>> {
    Box::pin(async move {
        let key = Count::<R> { parent, args };
        Ok(loaders(ctx)?.load_one(key).await?.unwrap_or(0))
    })
}
